"""Model names, the rules per family, and prices from genai-prices (no price table of our own)."""

from __future__ import annotations

import pytest

from planner.core.messages import OutputMode, Usage
from planner.prices import list_price, price
from planner.registry import KNOWN, resolve, retirement


@pytest.mark.parametrize(("name", "temperature", "first_mode"), [
    ("claude-opus-4-7", False, OutputMode.JSON_SCHEMA), ("claude-opus-4-6", True, OutputMode.JSON_SCHEMA),
    ("claude-haiku-5-5", False, OutputMode.JSON_SCHEMA), ("claude-3-7-sonnet-20250219", True, OutputMode.TOOL),
    ("gpt-5.3", False, OutputMode.JSON_SCHEMA), ("gpt-5-chat-latest", True, OutputMode.JSON_SCHEMA),
    ("o1", False, OutputMode.JSON_SCHEMA), ("gpt-4.1-mini", True, OutputMode.JSON_SCHEMA),
])
def test_ids_of_a_known_family_follow_its_rules(name, temperature, first_mode):
    spec = resolve(name)
    assert (spec.takes_temperature, spec.mode) == (temperature, first_mode)
    assert spec.max_output == (4_096 if temperature else 32_000)


def test_models_that_refuse_a_forced_tool_never_fall_back_to_one():
    for name in ("claude-opus-5.5", "claude-sonnet-5.5", "claude-fable-5-2"):
        assert OutputMode.TOOL not in resolve(name).modes
    assert resolve("claude-sonnet-4.6").fallbacks == (OutputMode.TOOL, OutputMode.TAGGED)


def test_an_api_id_resolves_to_its_known_name():
    """One model, one folder: claude-sonnet-5-5 is claude-sonnet-5.5."""
    assert resolve("claude-sonnet-5-5") is KNOWN["claude-sonnet-5.5"]
    assert resolve("anthropic:claude-opus-4-8") is KNOWN["claude-opus-4.8"]
    assert resolve("claude-35-sonnet") is KNOWN["claude-3.5-sonnet"]


def test_an_unlisted_id_of_a_known_family_gets_its_price_and_window_from_genai_prices():
    spec = resolve("gpt-5.3")
    assert "gpt-5.3" not in KNOWN and spec.window == 128_000
    assert price("openai", "gpt-5.3", Usage(1_000_000, 0)) == pytest.approx(1.75)
    assert resolve("claude-opus-4-1").window == 200_000


def test_todays_flagships_are_priced():
    for name in ("gpt-6.2-sol", "gpt-6-luna", "claude-opus-5.5", "claude-sonnet-5.5", "claude-haiku-5.5"):
        spec = KNOWN[name]
        listed = list_price(spec.provider, spec.api_id)
        assert listed is not None and listed.input and listed.output, name


def test_unknown_usage_or_price_is_none_never_zero():
    assert price("openai", "gpt-4o", Usage(1_000, 100, known=False)) is None
    assert price("compatible", "qwen2.5-7b", Usage(1_000, 100)) is None
    assert price("openai", "gpt-no-such-model", Usage(1_000, 100)) is None


def test_batch_answers_cost_the_batch_price():
    """gpt-4o has a batch price in the table; claude-3-5-sonnet has none, so half the standard price applies."""
    full = price("openai", "gpt-4o", Usage(1_000_000, 1_000_000))
    assert price("openai", "gpt-4o", Usage(1_000_000, 1_000_000), batch=True) == pytest.approx(full / 2)
    sonnet = price("anthropic", "claude-3-5-sonnet-20241022", Usage(1_000_000, 1_000_000))
    assert sonnet == pytest.approx(18.0)
    assert price("anthropic", "claude-3-5-sonnet-20241022", Usage(1_000_000, 1_000_000), batch=True) == 9.0


def test_retired_models_say_what_to_use_instead():
    assert "claude-sonnet-5.5" in retirement("anthropic", "claude-sonnet-4-5-20250929")
    assert retirement("openai", "gpt-4o") is None
