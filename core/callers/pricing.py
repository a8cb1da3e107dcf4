"""Estimated cost of a call, from a price table per thousand tokens (CNY, DashScope's list prices).

Defaults are the public prices in the DashScope SDK tutorial (../shared/reference/); MODEL_PRICES
overrides or extends them, e.g. `MODEL_PRICES=qwen-plus:input=0.0008,output=0.002;my-model:input=0.001`.
An estimate: DashScope's bill (free quotas, discounts, tiered prices) is the truth.

Context cache (Model Studio's "Context Cache" page, help.aliyun.com/zh/model-studio/context-cache):
input tokens served from the cache are billed at a fraction of the input price, 20% for an implicit
hit and 10% for an explicit one (`cache_control`); tokens that create an explicit cache at 125%.
Those are the page's usual ratios; a model whose bill differs sets its own in MODEL_PRICES
(`qwen-plus:implicit_hit_ratio=0.2,explicit_hit_ratio=0.1,explicit_creation_ratio=1.25`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

from core.callers.model import Tokens
from core.callers.settings import parse_entries


@dataclass(frozen=True)
class Price:
    input_per_1k: float
    output_per_1k: float  # reasoning tokens are output tokens, at this price
    # Context cache, as fractions of the input price (the page's usual ratios).
    implicit_hit_ratio: float = 0.2
    explicit_hit_ratio: float = 0.1
    explicit_creation_ratio: float = 1.25


# MODEL_PRICES option -> Price field.
OPTIONS = {
    "input": "input_per_1k", "output": "output_per_1k", "implicit_hit_ratio": "implicit_hit_ratio",
    "explicit_hit_ratio": "explicit_hit_ratio", "explicit_creation_ratio": "explicit_creation_ratio",
}


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
    for model, options in parse_entries(raw, "MODEL_PRICES", set(OPTIONS), _non_negative).items():
        if not options:
            raise ValueError(f"MODEL_PRICES: {model!r} needs input=... and/or output=... (CNY per 1000 tokens)")
        base = prices.get(model, Price(0.0, 0.0))
        prices[model] = replace(base, **{OPTIONS[name]: value for name, value in options.items()})
    return prices


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also refuses nan
        raise ValueError(f"expected a number of at least 0, got {text!r}")
    return value


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
    hit_ratio = price.explicit_hit_ratio if tokens.explicit_cache else price.implicit_hit_ratio
    uncached = max(tokens.input - tokens.cached - tokens.cache_creation, 0)
    input_tokens = uncached + tokens.cached * hit_ratio + tokens.cache_creation * price.explicit_creation_ratio
    return (input_tokens * price.input_per_1k + tokens.output * price.output_per_1k) / 1000
