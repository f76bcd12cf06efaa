"""The rules every plan we make must meet: one strict model, from which everything else derives.

`strict_plan(count)` is a pydantic model of a valid plan. From it come the JSON schema
the providers enforce (`schema`, and `strict_schema` trimmed to OpenAI's strict subset),
the sentences a repair turn quotes back to the model (`validate`), and the warnings
an imported card gets (`check`). The rules include what the card format needs to say
exactly what the plan says: single-line fields hold no line break of any kind, and no
metric holds ", " (the card joins metrics with it). Text that is valid but would
change how a card renders is normalised, with a recorded warning (`normalise`).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    conlist,
    create_model,
    model_validator,
)

from planner.core.schema import ACTIONS, Plan

# Every character str.splitlines() breaks on: an editor or a reader may show any of them as a new line.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
METRIC_SEPARATOR = ", "
MAX_ABLATIONS = 10
_BREAK = re.compile(f"[{LINE_BREAKS}]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_BOX_TAG = re.compile(r"<(/?div\b|!--)", re.IGNORECASE)  # would open or close a card box (or hide it) when rendered


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty")
    if _BREAK.search(value):
        raise ValueError("contains a line break; write it on one line")
    if _CONTROL.search(value):
        raise ValueError("contains a control character; use plain text")
    return value


def _metric(value: str) -> str:
    _text(value)
    if METRIC_SEPARATOR in value:
        raise ValueError(f"contains {METRIC_SEPARATOR!r}, which the card uses between metrics; "
                         "give one metric per list item (use ';' or parentheses inside a metric)")
    return value


def _reasoning(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty")
    return value


Line = Annotated[str, Field(min_length=1), AfterValidator(_text)]
Metric = Annotated[str, Field(min_length=1), AfterValidator(_metric)]


class StrictAblation(BaseModel):
    """One ablation: change one part of the method and measure the effect."""

    model_config = ConfigDict(extra="forbid")

    name: Line = Field(description="short unique name of the ablation")
    ablated_part: Line = Field(description="the one component, loss term or setting tested, in the paper's words")
    action: Literal["REMOVE", "REPLACE", "ADD"]
    replacement: list[Line] = Field(description="alternatives for REPLACE or ADD; empty for REMOVE")
    metrics: list[Metric] = Field(min_length=1, description="the paper's metrics this ablation reports")

    @model_validator(mode="after")
    def _replacement_fits_action(self) -> StrictAblation:
        if self.action == "REMOVE" and self.replacement:
            raise ValueError("REMOVE must not carry replacements")
        if self.action != "REMOVE" and not self.replacement:
            raise ValueError(f"{self.action} needs at least one replacement")
        return self


def _unique_names(plan: Any) -> Any:
    seen: dict[str, int] = {}
    for i, ablation in enumerate(plan.ablations, 1):
        key = ablation.name.strip().casefold()
        if key in seen:
            raise ValueError(f"ablation {i}: name {ablation.name.strip()!r} is used twice (ablations {seen[key]} "
                             f"and {i}); names must be unique")
        seen[key] = i
    return plan


@cache
def strict_plan(count: int | None) -> type[BaseModel]:
    """The model of a valid plan with exactly `count` ablations (any number when None)."""
    items = conlist(StrictAblation, min_length=count, max_length=count) if count else list[StrictAblation]
    return create_model(
        "StrictPlan",
        __config__=ConfigDict(extra="forbid"),
        __validators__={"_unique": model_validator(mode="after")(_unique_names)},
        reasoning=(Annotated[str, AfterValidator(_reasoning)],
                   Field(description="your discussion of the method and why these ablations matter")),
        ablations=(items, Field(description=f"exactly {count} ablations, most important first" if count
                                else "the ablations, most important first")),
    )


# ---------------------------------------------------------------- schemas

def inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with $refs replaced by their definitions and pydantic's titles dropped."""
    if isinstance(node, dict):
        if "$ref" in node:
            return inline_refs(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: inline_refs(v, defs) for k, v in node.items() if k not in ("title", "$defs")}
    if isinstance(node, list):
        return [inline_refs(v, defs) for v in node]
    return node


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A pydantic model's JSON schema, self-contained (no $refs, no titles), closed to extra fields."""
    raw = model.model_json_schema()
    schema = inline_refs(raw, raw.get("$defs", {}))
    schema["additionalProperties"] = False
    return schema


@cache
def schema(count: int) -> dict[str, Any]:
    """The plan's JSON schema with its size limits: what every request carries. Each provider's adapter
    shapes it into the dialect its structured output enforces (OpenAI's strict subset, Anthropic's)."""
    return model_schema(strict_plan(count))


# ---------------------------------------------------------------- validation

def _where(loc: tuple[Any, ...], data: Any) -> str:
    """A location a model can find in its own answer: 'ablation 3 (Name) metrics[2]'."""
    if not loc:
        return "plan"
    if loc[0] == "ablations" and len(loc) > 1 and isinstance(loc[1], int):
        index = loc[1]
        name = ""
        try:
            name = " ".join(str(data["ablations"][index]["name"]).split())[:60]
        except (KeyError, IndexError, TypeError):
            pass
        head = f"ablation {index + 1}" + (f" ({name})" if name else "")
        rest = "".join(f"[{p + 1}]" if isinstance(p, int) else f" {p}" for p in loc[2:])
        return head + rest
    return ".".join(str(p) for p in loc)


def describe(exc: ValidationError, data: Any) -> list[str]:
    """One sentence per broken rule, in words a model can act on."""
    errors = []
    for err in exc.errors():
        message = re.sub(r"^(Value error|Assertion failed), ", "", err["msg"])
        if err["type"] == "too_short" and err["loc"] == ("ablations",):
            message = f"expected exactly {err['ctx']['min_length']} ablations, got {err['ctx']['actual_length']}"
        elif err["type"] == "too_long" and err["loc"] == ("ablations",):
            message = f"expected exactly {err['ctx']['max_length']} ablations, got {err['ctx']['actual_length']}"
        loc = tuple(err["loc"])
        if err["type"] == "literal_error" and loc[-1:] == ("action",):
            message, loc = f"action {err['input']!r} is not one of {', '.join(ACTIONS)}", loc[:-1]
        elif err["type"] == "extra_forbidden":
            message, loc = f"unexpected field {loc[-1]!r}; use only the fields of the schema", loc[:-1]
        elif not loc and err["type"] in ("model_type", "dict_type"):
            message = "the answer must be one JSON object with the fields 'reasoning' and 'ablations'"
        elif err["type"] == "missing":
            message, loc = f"field {loc[-1]!r} is missing", loc[:-1]
        where = _where(loc, data)
        errors.append(message if where == "plan" or message.startswith("expected exactly") else f"{where}: {message}")
    return errors


def validate(data: Any, count: int | None) -> tuple[Plan | None, list[str]]:
    """The plan in `data` if it meets every rule, and every rule it breaks (all at once, so one repair
    turn can fix them all: a wrong count does not hide the problems of the items)."""
    try:
        strict = strict_plan(count).model_validate(data)
    except ValidationError as exc:
        errors = describe(exc, data)
        if count and any(e.startswith("expected exactly") for e in errors):
            errors += [e for e in validate(data, None)[1] if e not in errors]
        try:  # the names rule runs after the fields pass; report a clash now, not one repair later
            _unique_names(Plan.model_validate(data))
        except ValidationError:
            pass
        except ValueError as clash:
            if str(clash) not in errors:
                errors.append(str(clash))
        return None, errors
    return Plan.model_validate(strict.model_dump()), []


def check(plan: Plan, count: int | None = None) -> list[str]:
    """What an existing plan (an imported card) breaks; it is kept as it is, with these as warnings."""
    return validate(plan.model_dump(), count)[1]


def normalise(plan: Plan) -> tuple[Plan, list[str]]:
    """A valid plan made safe for the card, and a warning for each change.

    Reasoning line endings become '\\n' (cards are read with normalised line endings),
    and `<div`, `</div` and `<!--` in the reasoning are written as `&lt;div` (etc.) so they
    cannot open, close or hide a card box when rendered (a markdown viewer still shows '<div').
    """
    reasoning, warnings = plan.reasoning, []
    unified = reasoning.replace("\r\n", "\n").replace("\r", "\n")
    if unified != reasoning:
        warnings.append("reasoning: carriage returns were turned into line feeds")
    escaped = _BOX_TAG.sub(r"&lt;\1", unified)
    if escaped != unified:
        warnings.append("reasoning: '<div' and '<!--' were written as '&lt;div' and '&lt;!--' so they cannot "
                        "break the card's boxes")
    if not warnings:
        return plan, []
    return plan.model_copy(update={"reasoning": escaped}), warnings


def card_errors(plan: Plan) -> list[str]:
    """What would make the card say something else than `plan` (checked before any card is written)."""
    errors = []
    for i, ab in enumerate(plan.ablations, 1):
        for field, values in (("name", [ab.name]), ("ablated_part", [ab.ablated_part]), ("action", [ab.action]),
                              ("replacement", ab.replacement), ("metrics", ab.metrics)):
            if any(_BREAK.search(v) for v in values):
                errors.append(f"ablation {i} {field} contains a line break")
        if any(METRIC_SEPARATOR in m for m in ab.metrics) or ab.metrics == [""]:
            errors.append(f"ablation {i} metrics cannot be written unambiguously")
    if "\r" in plan.reasoning:
        errors.append("reasoning contains a carriage return")
    return errors
