"""Which caller store the settings ask for (REDIS_URL, CALLERS): apart from core/callers/store.py, which
both stores import, so that nothing imports in a circle."""

from __future__ import annotations

from core.callers.store import RESERVATION_TTL_S, CallerStore


def build_store(*, redis_url: str | None, callers: str = "", model_limits: str = "", model_prices: str = "",
                fail_open: bool = False, reservation_ttl_s: float = RESERVATION_TTL_S) -> CallerStore | None:
    """The store the settings ask for: Redis when REDIS_URL is set, else the in-process store when
    CALLERS is set, else None (only the owner's INVOKE_TOKEN works, as before)."""
    ttl = max(1, int(reservation_ttl_s))
    from core.callers.pricing import parse_prices
    from core.callers.settings import parse_callers, parse_model_limits

    limits, prices = parse_model_limits(model_limits), parse_prices(model_prices)
    if redis_url:
        if callers.strip():
            raise ValueError("CALLERS is for runs without Redis: with REDIS_URL, add callers with scripts/callers")
        from core.callers.redis_store import RedisCallerStore
        return RedisCallerStore(redis_url, model_limits=limits, prices=prices, fail_open=fail_open, reservation_ttl_s=ttl)
    if callers.strip():
        from core.callers.memory_store import MemoryCallerStore
        return MemoryCallerStore(parse_callers(callers), model_limits=limits, prices=prices, reservation_ttl_s=ttl)
    return None
