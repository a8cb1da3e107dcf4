"""Estimated cost of a call, from a price table per thousand tokens (CNY, DashScope's list prices).

Defaults are the public prices in the DashScope SDK tutorial (../shared/reference/); MODEL_PRICES
overrides or extends them, e.g. `MODEL_PRICES=qwen-plus:input=0.0008,output=0.002;my-model:input=0.001`.
An estimate: DashScope's bill (free quotas, discounts, tiered prices) is the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from core.callers.model import Tokens
from core.callers.settings import parse_entries


@dataclass(frozen=True)
class Price:
    input_per_1k: float
    output_per_1k: float  # reasoning tokens are output tokens, at this price


DEFAULT_PRICES: dict[str, Price] = {
    "qwen-long": Price(0.0005, 0.002),
    "qwen-flash": Price(0.00015, 0.0015),  # qwen-turbo's successor (retired 2026-10-10); 0–128K input tier
    "qwen-plus": Price(0.004, 0.012),
    "qwen-max": Price(0.04, 0.12),
    "qwen-max-longcontext": Price(0.04, 0.12),
}


def parse_prices(raw: str) -> dict[str, Price]:
    """MODEL_PRICES on top of the defaults."""
    prices = dict(DEFAULT_PRICES)
    for model, options in parse_entries(raw, "MODEL_PRICES", {"input", "output"}, float).items():
        if not options:
            raise ValueError(f"MODEL_PRICES: {model!r} needs input=... and/or output=... (CNY per 1000 tokens)")
        base = prices.get(model, Price(0.0, 0.0))
        prices[model] = Price(options.get("input", base.input_per_1k), options.get("output", base.output_per_1k))
    return prices


def price_of(model: str, prices: Mapping[str, Price]) -> Price | None:
    """The model's price; a dated snapshot (qwen-plus-0723) falls back to its family (qwen-plus)."""
    if model in prices:
        return prices[model]
    families = [name for name in prices if model.startswith(name + "-")]
    return prices[max(families, key=len)] if families else None


def estimated_cost(model: str, tokens: Tokens, prices: Mapping[str, Price]) -> float | None:
    """CNY, or None when the model has no price (the usage report then shows no cost, not a zero)."""
    price = price_of(model, prices)
    if price is None:
        return None
    return (tokens.input * price.input_per_1k + tokens.output * price.output_per_1k) / 1000
