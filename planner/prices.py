"""Prices and context windows from `genai-prices` (Pydantic's maintained table of LLM API prices).

Planner keeps no price table of its own: each answer is priced by the package with
its own usage (cached input and cache writes at their own rates, long-context tiers by
the answer's own size), at the batch price when a batch engine answered. Where the
package knows no batch price for a model, half the standard price is used, as both
batch engines document. A model the package does not know has no price: its cost is
unknown (None), never zero. The package loads lazily, so `--help` never pays for it.

To refresh prices, upgrade the package (`pip install -U genai-prices`); its
`UpdatePrices` can also fetch the newest table at run time, which planner does not do
unasked (the tool reaches no network but the providers).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from planner.core.messages import Usage

log = logging.getLogger(__name__)
BATCH_SHARE = Decimal("0.5")  # OpenAI Batch API and Anthropic Message Batches bill half the standard price
# planner's provider names -> genai-prices' provider ids ("compatible" servers have no price)
PROVIDER_IDS = {"openai": "openai", "anthropic": "anthropic", "openrouter": "openrouter"}


@dataclass(frozen=True)
class ListPrice:
    """A model's standard prices in USD per million tokens, for `planner models`."""

    input: float | None
    output: float | None
    cache_read: float | None
    cache_write: float | None
    batch: bool  # whether the table has the model's batch price (else half the standard one applies)
    since: date | None  # the date this price took effect, when the table records one


def source() -> str:
    """Where prices come from, for `planner models` and the README."""
    from importlib.metadata import version

    return f"genai-prices {version('genai-prices')}, its bundled table"


@cache
def _model(provider: str, model_id: str) -> Any | None:
    """The package's entry for a model, or None when it knows none (unknown ids are not an error)."""
    provider_id = PROVIDER_IDS.get(provider)
    if provider_id is None:
        return None
    from genai_prices.data_snapshot import get_snapshot

    try:
        return get_snapshot().find_provider_model(model_id, None, provider_id, None)[1]
    except LookupError:
        return None


def context_window(provider: str, model_id: str) -> int | None:
    model = _model(provider, model_id)
    return model.context_window if model is not None else None


def price(provider: str, model_id: str, usage: Usage, batch: bool = False,
          when: datetime | None = None) -> float | None:
    """What one answer cost in USD, or None when its usage or the model's price is unknown."""
    if not usage.known or _model(provider, model_id) is None:
        return None
    from genai_prices import Usage as PriceUsage
    from genai_prices import calc_price

    counted = PriceUsage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                         cache_read_tokens=usage.cache_read_tokens, cache_write_tokens=usage.cache_write_tokens)
    when = when or datetime.now(UTC)
    kwargs = {"provider_id": PROVIDER_IDS[provider], "genai_request_timestamp": when}
    try:
        if batch and _has_batch_price(provider, model_id, when):
            return float(calc_price(counted, model_id, price_context={"processing": "batch"}, **kwargs).total_price)
        total = calc_price(counted, model_id, **kwargs).total_price
    except (LookupError, ValueError) as exc:  # a price the table cannot compute is unknown, not free
        log.warning("no price for %s %s: %s", provider, model_id, exc)
        return None
    return float(total * BATCH_SHARE if batch else total)


def _has_batch_price(provider: str, model_id: str, when: datetime) -> bool:
    model = _model(provider, model_id)
    return any(v.when.get("processing") == "batch" and _active(v.constraint, when)
               for v in (model.price_variants or []))


def _active(constraint: Any, when: datetime) -> bool:
    start = getattr(constraint, "start_date", None)
    return start is None or start <= when.date()


def list_price(provider: str, model_id: str) -> ListPrice | None:
    """The standard prices in effect today, or None for a model the table does not know."""
    model = _model(provider, model_id)
    if model is None:
        return None
    now = datetime.now(UTC)
    current, since = model.prices, None
    if isinstance(current, list):  # conditional prices: the newest one in effect
        active = [c for c in current if _active(c.constraint, now)]
        current = active[-1].prices if active else current[0].prices
        since = getattr(active[-1].constraint, "start_date", None) if active else None

    def per_m(value: Any) -> float | None:
        value = getattr(value, "base", value)  # a tiered price starts at its base
        return float(value) if value is not None else None

    return ListPrice(per_m(current.input_mtok), per_m(current.output_mtok), per_m(current.cache_read_mtok),
                     per_m(current.cache_write_mtok), _has_batch_price(provider, model_id, now), since)
