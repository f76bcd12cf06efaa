"""Which models the planner knows, and what each one needs to be called correctly.

A model name on the command line resolves here to a `ModelSpec`: the provider that
serves it, its API id, whether it takes a temperature (reasoning models do not), how
it gives structured output, its context window and list prices. Known names first
(the five the published cards use, then today's families), then prefixes for other
models of those families, then an explicit `provider:model-id`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

from planner.core.messages import OutputMode
from planner.errors import UsageError

PROVIDERS = ("openai", "anthropic", "openrouter", "compatible")
BATCH_DISCOUNT = 0.5  # OpenAI Batch API and Anthropic Message Batches bill half the list price


def model_slug(name: str) -> str:
    """A model's folder name: its display name without dots, as the published cards write it
    (claude-3.5-sonnet -> claude-35-sonnet)."""
    return name.replace(".", "")


@dataclass(frozen=True)
class ModelSpec:
    name: str  # display name, as written in the card header
    provider: str
    api_id: str
    takes_temperature: bool = True
    reasoning_effort: str | None = None  # for reasoning models, which take no temperature
    mode: OutputMode = OutputMode.JSON_SCHEMA
    context_window: int = 128_000
    price_in: float | None = None  # USD per million input tokens
    price_out: float | None = None  # USD per million output tokens
    retired: str | None = None  # why a call fails now, and what to use instead

    @property
    def slug(self) -> str:
        return model_slug(self.name)

    def cost(self, input_tokens: int, output_tokens: int, batch: bool = False) -> float | None:
        if self.price_in is None or self.price_out is None:
            return None
        full = (input_tokens * self.price_in + output_tokens * self.price_out) / 1_000_000
        return full * BATCH_DISCOUNT if batch else full


def _openai(name: str, api_id: str, price_in: float, price_out: float, reasoning: bool = False,
            context: int = 128_000) -> ModelSpec:
    return ModelSpec(name, "openai", api_id, takes_temperature=not reasoning,
                     reasoning_effort="medium" if reasoning else None, context_window=context,
                     price_in=price_in, price_out=price_out)


def _anthropic(name: str, api_id: str, price_in: float, price_out: float, retired: str | None = None) -> ModelSpec:
    return ModelSpec(name, "anthropic", api_id, mode=OutputMode.TOOL, context_window=200_000,
                     price_in=price_in, price_out=price_out, retired=retired)


def _openrouter(name: str, api_id: str, price_in: float, price_out: float, context: int) -> ModelSpec:
    return ModelSpec(name, "openrouter", api_id, context_window=context, price_in=price_in, price_out=price_out)


SONNET_35_RETIRED = ("claude-3-5-sonnet-20241022 was retired by Anthropic on 2025-10-28 (see Anthropic's model "
                     "deprecations page); use a current model such as claude-sonnet-4.5 (claude-sonnet-4-5-20250929)")
# The first five are the models of the published cards; list prices are those published when each was current.
SEED_MODELS = ("gpt-4o", "o3-mini", "claude-3.5-sonnet", "llama-3.1-405b-instruct", "gemini-2.5-flash")
KNOWN: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        _openai("gpt-4o", "gpt-4o", 2.50, 10.00),
        _openai("o3-mini", "o3-mini", 1.10, 4.40, reasoning=True, context=200_000),
        _anthropic("claude-3.5-sonnet", "claude-3-5-sonnet-20241022", 3.00, 15.00, retired=SONNET_35_RETIRED),
        _openrouter("llama-3.1-405b-instruct", "meta-llama/llama-3.1-405b-instruct", 0.80, 0.80, 131_072),
        _openrouter("gemini-2.5-flash", "google/gemini-2.5-flash", 0.30, 2.50, 1_048_576),
        _openai("gpt-5", "gpt-5", 1.25, 10.00, reasoning=True, context=400_000),
        _openai("gpt-5-mini", "gpt-5-mini", 0.25, 2.00, reasoning=True, context=400_000),
        _openai("gpt-5-nano", "gpt-5-nano", 0.05, 0.40, reasoning=True, context=400_000),
        _openai("gpt-4.1", "gpt-4.1", 2.00, 8.00, context=1_047_576),
        _openai("o3", "o3", 2.00, 8.00, reasoning=True, context=200_000),
        _openai("o4-mini", "o4-mini", 1.10, 4.40, reasoning=True, context=200_000),
        _anthropic("claude-sonnet-4.5", "claude-sonnet-4-5-20250929", 3.00, 15.00),
        _anthropic("claude-opus-4.5", "claude-opus-4-5-20251101", 5.00, 25.00),
        _anthropic("claude-haiku-4.5", "claude-haiku-4-5-20251001", 1.00, 5.00),
        _anthropic("claude-sonnet-4.6", "claude-sonnet-4-6", 3.00, 15.00),
        _anthropic("claude-opus-4.6", "claude-opus-4-6", 5.00, 25.00),
        _openrouter("gemini-2.5-pro", "google/gemini-2.5-pro", 1.25, 10.00, 1_048_576),
        _openrouter("gemini-2.5-flash-lite", "google/gemini-2.5-flash-lite", 0.10, 0.40, 1_048_576),
    )
}
_ALIASES = {spec.slug: name for name, spec in KNOWN.items() if spec.slug != name}  # dotless names, as two seeds write them
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
_REASONING_IDS = re.compile(r"(o[134](-|$)|gpt-5)")


def _display(model_id: str) -> str:
    """A header- and path-safe display name for an arbitrary model id (`org/model:tag`)."""
    name = _UNSAFE.sub("-", model_id).strip("-.")
    if not name or name in (".", ".."):
        raise UsageError(f"model id {model_id!r} has no usable characters; give a name like openai:gpt-4.1")
    return name


def _by_prefix(name: str) -> ModelSpec | None:
    """Other models of the known families: reasoning OpenAI models take no temperature."""
    if _REASONING_IDS.match(name) and not name.startswith("gpt-5-chat"):
        return ModelSpec(_display(name), "openai", name, takes_temperature=False, reasoning_effort="medium",
                         context_window=200_000)
    if name.startswith("gpt-"):
        return ModelSpec(_display(name), "openai", name)
    if name.startswith("claude-"):
        return ModelSpec(_display(name), "anthropic", name, mode=OutputMode.TOOL, context_window=200_000)
    return None


def _explicit(provider: str, model_id: str) -> ModelSpec:
    if provider not in PROVIDERS:
        close = difflib.get_close_matches(provider, PROVIDERS, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UsageError(f"unknown provider {provider!r}; {hint}use one of {', '.join(PROVIDERS)} "
                         "(e.g. openai:gpt-4.1)")
    if not model_id:
        raise UsageError(f"'{provider}:' needs a model id after the colon, e.g. {provider}:my-model")
    known = next((s for s in KNOWN.values() if s.provider == provider and s.api_id == model_id), None)
    if known:
        return known
    inferred = _by_prefix(model_id) if provider in ("openai", "anthropic") else None
    if inferred and inferred.provider == provider:
        return inferred
    mode = OutputMode.TOOL if provider == "anthropic" else OutputMode.JSON_SCHEMA
    return ModelSpec(_display(model_id), provider, model_id, mode=mode)


def suggestions(name: str) -> list[str]:
    """Close known names, each once, as display names (a dotless alias is shown as its model)."""
    candidates = {**{n: n for n in KNOWN}, **_ALIASES}
    close = difflib.get_close_matches(name, list(candidates), n=6, cutoff=0.5)
    return list(dict.fromkeys(candidates[c] for c in close))[:3]


def resolve(name: str) -> ModelSpec:
    """The spec for a command-line model name, or a UsageError listing close names."""
    name = name.strip()
    if name in KNOWN:
        return KNOWN[name]
    if name in _ALIASES:  # claude-35-sonnet is claude-3.5-sonnet: one model, one display name
        return KNOWN[_ALIASES[name]]
    if ":" in name:
        provider, _, model_id = name.partition(":")
        return _explicit(provider.strip().lower(), model_id.strip())
    inferred = _by_prefix(name)
    if inferred:
        return inferred
    close = suggestions(name)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise UsageError(f"unknown model {name!r}; {hint}run 'planner models' for the known names, "
                     "or give provider:model-id with provider one of " + ", ".join(PROVIDERS))


def display_name(name_or_slug: str) -> str:
    """The display name of a known model given either form; other names are returned as they are."""
    return _ALIASES.get(name_or_slug, name_or_slug)


def with_base_url(spec: ModelSpec, base_url: str | None) -> ModelSpec:
    """A spec aimed at `--base-url`: an Anthropic model keeps its wire format, others speak OpenAI's."""
    if not base_url or spec.provider in ("anthropic", "compatible"):
        return spec
    return replace(spec, provider="compatible")
