"""Which models planner knows, and what each one needs to be called correctly.

A name on the command line resolves here to a `ModelSpec`: the provider and API id,
whether the model takes a temperature, its reasoning effort, how it gives structured
output (and what to fall back to), its default output budget, and whether it is
retired. Prices and context windows are not kept here: they come from genai-prices
(planner.prices). Known names first (the five models of the published cards, then
today's), then rules per model family for other ids, then `provider:model-id`.

The family rules rest on the providers' documentation as of December 2026: OpenAI's
o-series, GPT-5 and GPT-6 are reasoning models that take no temperature (OpenAI's
reasoning guide advises reserving about 25,000 tokens for reasoning and output);
Anthropic's Claude Opus 4.7 and later, Sonnet 5 and later, Haiku 5.5, Fable and
Mythos answer a non-default temperature with HTTP 400 and think by default; Opus
5.5, Sonnet 5.5 and Fable refuse a forced tool choice; Claude 4.5 and later take
structured output (`output_config.format`, strict tools).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

from planner.core.messages import OutputMode
from planner.errors import UsageError

PROVIDERS = ("openai", "anthropic", "openrouter", "compatible")
DEFAULT_WINDOWS = {"anthropic": 200_000}  # when genai-prices knows no window; others 128,000
DEFAULT_WINDOW = 128_000
PLAIN_BUDGET = 4_096  # output tokens for a model that does not reason
REASONING_BUDGET = 32_000  # reasoning models spend most of their output on reasoning
PLAIN_TIMEOUT, REASONING_TIMEOUT = 120.0, 600.0  # seconds for one request, answer included
OPENAI_CHAIN = (OutputMode.JSON_SCHEMA, OutputMode.JSON_OBJECT, OutputMode.TAGGED)


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
    reasoning_effort: str | None = None  # for OpenAI reasoning models
    modes: tuple[OutputMode, ...] = OPENAI_CHAIN  # strongest structured-output mode first, then fallbacks
    context_window: int | None = None  # None: genai-prices' value, else the provider's default
    max_output: int = PLAIN_BUDGET  # the default --max-tokens
    timeout: float = PLAIN_TIMEOUT  # the default --timeout
    reasons: bool = False  # spends output tokens on reasoning (thinking) before it answers
    strict_tool: bool = False  # Anthropic: the tool's input schema is enforced (`strict: true`)
    retired: str | None = None  # why a call fails now, and what to use instead
    notice: str | None = None  # a retirement announced for a later date

    @property
    def slug(self) -> str:
        return model_slug(self.name)

    @property
    def mode(self) -> OutputMode:
        return self.modes[0]

    @property
    def fallbacks(self) -> tuple[OutputMode, ...]:
        return self.modes[1:]

    @property
    def window(self) -> int:
        """The context window: given, or genai-prices', or the provider's usual size."""
        if self.context_window is not None:
            return self.context_window
        from planner.prices import context_window

        return context_window(self.provider, self.api_id) or DEFAULT_WINDOWS.get(self.provider, DEFAULT_WINDOW)


# ------------------------------------------------------------------ families

_OPENAI_CHAT = re.compile(r"^gpt-[56][.\d]*-chat")  # gpt-5-chat-latest etc. answer without reasoning
_OPENAI_REASONING = re.compile(r"^(o\d|gpt-[56])")
_CLAUDE_NO_SAMPLING = re.compile(r"^claude-(opus-4-[7-9]|opus-5|sonnet-5|haiku-5|fable|mythos)")
_CLAUDE_NO_FORCED_TOOL = re.compile(r"^claude-(opus-5-5|sonnet-5-5|fable|mythos-5-[12])")
_CLAUDE_STRUCTURED = re.compile(r"^claude-((opus|sonnet|haiku)-(4-[5-9]|[5-9])|fable|mythos)")


def openai_family(name: str, api_id: str, **extra: object) -> ModelSpec:
    if _OPENAI_REASONING.match(api_id) and not _OPENAI_CHAT.match(api_id):
        return ModelSpec(name, "openai", api_id, takes_temperature=False, reasoning_effort="medium",
                         max_output=REASONING_BUDGET, timeout=REASONING_TIMEOUT, reasons=True, **extra)  # type: ignore[arg-type]
    return ModelSpec(name, "openai", api_id, **extra)  # type: ignore[arg-type]


def anthropic_family(name: str, api_id: str, **extra: object) -> ModelSpec:
    if _CLAUDE_NO_FORCED_TOOL.match(api_id):
        modes: tuple[OutputMode, ...] = (OutputMode.JSON_SCHEMA, OutputMode.TAGGED)
    elif _CLAUDE_STRUCTURED.match(api_id):
        modes = (OutputMode.JSON_SCHEMA, OutputMode.TOOL, OutputMode.TAGGED)
    else:
        modes = (OutputMode.TOOL, OutputMode.TAGGED)
    thinks = bool(_CLAUDE_NO_SAMPLING.match(api_id))  # these think by default and take no sampling parameters
    return ModelSpec(name, "anthropic", api_id, takes_temperature=not thinks, modes=modes,
                     max_output=REASONING_BUDGET if thinks else PLAIN_BUDGET,
                     timeout=REASONING_TIMEOUT if thinks else PLAIN_TIMEOUT, reasons=thinks,
                     strict_tool=bool(_CLAUDE_STRUCTURED.match(api_id)), **extra)  # type: ignore[arg-type]


def _openrouter(name: str, api_id: str) -> ModelSpec:
    return ModelSpec(name, "openrouter", api_id)


def _retired(model: str, when: str, who: str, successor: str) -> str:
    return (f"{model} was retired by {who} on {when} (see {who}'s model deprecations page); use a current model "
            f"such as {successor}")


# ------------------------------------------------------------------ known names

# The models of the published cards keep their names. Retirement dates: Anthropic's and OpenAI's model
# deprecation pages (OpenAI names different successors in different versions of its page: check it).
SEED_MODELS = ("gpt-4o", "o3-mini", "claude-3.5-sonnet", "llama-3.1-405b-instruct", "gemini-2.5-flash")
_GPT5_SHUTDOWN = "OpenAI shuts this model down on 2026-12-11; move to a GPT-6 model such as gpt-6.1-sol"
_GPT4_SHUTDOWN = "OpenAI shuts its snapshots down on 2027-01-14; its named successor is gpt-6-luna"
KNOWN: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        openai_family("gpt-4o", "gpt-4o", notice=_GPT4_SHUTDOWN),
        openai_family("o3-mini", "o3-mini", retired=_retired("o3-mini", "2026-10-23", "OpenAI", "gpt-5.6-sol")),
        anthropic_family("claude-3.5-sonnet", "claude-3-5-sonnet-20241022",
                         retired=_retired("claude-3-5-sonnet-20241022", "2025-10-28", "Anthropic",
                                          "claude-sonnet-5.5 (claude-sonnet-5-5)")),
        _openrouter("llama-3.1-405b-instruct", "meta-llama/llama-3.1-405b-instruct"),
        _openrouter("gemini-2.5-flash", "google/gemini-2.5-flash"),
        # OpenAI today
        openai_family("gpt-6.2-sol", "gpt-6.2-sol"),
        openai_family("gpt-6.2-astra", "gpt-6.2-astra"),
        openai_family("gpt-6.1-sol", "gpt-6.1-sol"),
        openai_family("gpt-6.1-terra", "gpt-6.1-terra"),
        openai_family("gpt-6-luna", "gpt-6-luna"),
        openai_family("gpt-5.6-sol", "gpt-5.6-sol"),
        openai_family("gpt-5.6-terra", "gpt-5.6-terra"),
        openai_family("gpt-5.6-luna", "gpt-5.6-luna"),
        openai_family("gpt-5.5", "gpt-5.5"),
        openai_family("gpt-5.4", "gpt-5.4"),
        openai_family("gpt-5.4-mini", "gpt-5.4-mini"),
        openai_family("gpt-5.2", "gpt-5.2"),
        openai_family("gpt-5.1", "gpt-5.1"),
        openai_family("gpt-5", "gpt-5", notice=_GPT5_SHUTDOWN),
        openai_family("gpt-5-mini", "gpt-5-mini", notice=_GPT5_SHUTDOWN),
        openai_family("gpt-5-nano", "gpt-5-nano", notice=_GPT5_SHUTDOWN),
        openai_family("gpt-4.1", "gpt-4.1", notice=_GPT4_SHUTDOWN),
        openai_family("o3", "o3", notice=_GPT5_SHUTDOWN),
        openai_family("o4-mini", "o4-mini", retired=_retired("o4-mini", "2026-10-23", "OpenAI", "gpt-5.6-terra")),
        # Anthropic today
        anthropic_family("claude-opus-5.5", "claude-opus-5-5"),
        anthropic_family("claude-sonnet-5.5", "claude-sonnet-5-5"),
        anthropic_family("claude-haiku-5.5", "claude-haiku-5-5"),
        anthropic_family("claude-opus-5", "claude-opus-5"),
        anthropic_family("claude-sonnet-5", "claude-sonnet-5"),
        anthropic_family("claude-opus-4.8", "claude-opus-4-8"),
        anthropic_family("claude-opus-4.7", "claude-opus-4-7"),
        anthropic_family("claude-opus-4.6", "claude-opus-4-6"),
        anthropic_family("claude-sonnet-4.6", "claude-sonnet-4-6"),
        anthropic_family("claude-haiku-4.5", "claude-haiku-4-5-20251001"),
        anthropic_family("claude-opus-4.5", "claude-opus-4-5-20251101",
                         notice="Anthropic retires it on 2027-01-22 (tentative); its successor is claude-opus-5.5"),
        anthropic_family("claude-sonnet-4.5", "claude-sonnet-4-5-20250929",
                         retired=_retired("claude-sonnet-4-5-20250929", "2026-11-30", "Anthropic",
                                          "claude-sonnet-5.5 (claude-sonnet-5-5)")),
        _openrouter("gemini-2.5-pro", "google/gemini-2.5-pro"),
        _openrouter("gemini-2.5-flash-lite", "google/gemini-2.5-flash-lite"),
    )
}
_ALIASES = {spec.slug: name for name, spec in KNOWN.items() if spec.slug != name}  # dotless names, as two seeds write them
_BY_API_ID = {(spec.provider, spec.api_id): spec for spec in KNOWN.values()}
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def _display(model_id: str) -> str:
    """A header- and path-safe display name for an arbitrary model id (`org/model:tag`)."""
    name = _UNSAFE.sub("-", model_id).strip("-.")
    if not name or name in (".", ".."):
        raise UsageError(f"model id {model_id!r} has no usable characters; give a name like openai:gpt-4.1")
    return name


def _by_family(name: str) -> ModelSpec | None:
    """Other models of the known families, by their API id."""
    for provider in ("openai", "anthropic"):
        if (provider, name) in _BY_API_ID:
            return _BY_API_ID[(provider, name)]
    if name.startswith("gpt-") or _OPENAI_REASONING.match(name):
        return openai_family(_display(name), name)
    if name.startswith("claude-"):
        return anthropic_family(_display(name), name)
    return None


def _explicit(provider: str, model_id: str) -> ModelSpec:
    if provider not in PROVIDERS:
        close = difflib.get_close_matches(provider, PROVIDERS, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise UsageError(f"unknown provider {provider!r}; {hint}use one of {', '.join(PROVIDERS)} "
                         "(e.g. openai:gpt-4.1)")
    if not model_id:
        raise UsageError(f"'{provider}:' needs a model id after the colon, e.g. {provider}:my-model")
    if (provider, model_id) in _BY_API_ID:
        return _BY_API_ID[(provider, model_id)]
    inferred = _by_family(model_id) if provider in ("openai", "anthropic") else None
    if inferred and inferred.provider == provider:
        return inferred
    if provider == "anthropic":
        return anthropic_family(_display(model_id), model_id)
    return ModelSpec(_display(model_id), provider, model_id)


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
    inferred = _by_family(name)
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
    return replace(spec, provider="compatible", modes=OPENAI_CHAIN)


def retirement(provider: str, api_id: str) -> str | None:
    """Why a known model's calls fail now and what to use instead (None when it is not retired)."""
    spec = _BY_API_ID.get((provider, api_id))
    return spec.retired if spec else None


def seed_support(provider: str) -> str:
    """'yes', 'deprecated' (OpenAI's spec marks `seed` deprecated: best effort) or 'no' (Anthropic has none)."""
    return {"openai": "deprecated", "anthropic": "no"}.get(provider, "yes")
