"""From a model's reply to a validated plan, or to the exact list of what is wrong with it.

Native structured output usually gives clean JSON, but compatible servers and the
tagged fallback (`<discussion>` then `<predictions>` with one JSON object per line, as
the published planner asked) come back with code fences, trailing commas, smart quotes
or prose around the JSON. We repair what is unambiguous and report the rest as
sentences that go straight into the repair turn.
"""

from __future__ import annotations

import json
import re
from typing import Any

from planner.core import rules
from planner.core.messages import Reply
from planner.core.schema import Plan

_FENCE = re.compile(r"```[A-Za-z]*\s*\n?(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_SMART = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})
_DISCUSSION = re.compile(r"<discussion>(.*?)(?:</discussion>|<predictions>|$)", re.DOTALL | re.IGNORECASE)
_PREDICTIONS = re.compile(r"<predictions>(.*?)(?:</predictions>|$)", re.DOTALL | re.IGNORECASE)


def loads_lenient(text: str) -> Any:
    """json.loads, then the same after removing fences, smart quotes, trailing commas and prose."""
    candidates = [text]
    fenced = _FENCE.findall(text)
    candidates += fenced
    for base in [text, *fenced]:
        fixed = _TRAILING_COMMA.sub(r"\1", base.translate(_SMART))
        candidates.append(fixed)
        for open_, close in (("{", "}"), ("[", "]")):
            start, end = fixed.find(open_), fixed.rfind(close)
            if 0 <= start < end:
                candidates.append(fixed[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except RecursionError:
            raise ValueError("the answer is JSON nested too deeply") from None
        except ValueError:
            continue
    raise ValueError("no valid JSON found")


def _tagged(text: str) -> dict[str, Any] | None:
    """The published planner's format: free discussion, then one JSON ablation per line."""
    predictions = _PREDICTIONS.search(text)
    if not predictions:
        return None
    discussion = _DISCUSSION.search(text)
    body = predictions.group(1).strip()
    try:
        items = loads_lenient(body)
        items = items if isinstance(items, list) else [items]
    except ValueError:
        items = []
        for line in body.splitlines():
            line = line.strip().rstrip(",")
            if line.startswith("{"):
                try:
                    items.append(loads_lenient(line))
                except ValueError:
                    items.append({"_unparsed": line[:80]})
    reasoning = discussion.group(1).strip() if discussion else text[: predictions.start()].strip()
    return {"reasoning": reasoning, "ablations": items}


def _normalise(obj: Any) -> dict[str, Any]:
    """Accept the shapes models actually send: bare lists, string metrics, lower-case actions."""
    if isinstance(obj, list):
        obj = {"reasoning": "", "ablations": obj}
    ablations = obj.get("ablations", obj.get("predictions"))
    if isinstance(ablations, list):
        obj = {**obj, "ablations": [_normalise_ablation(a) for a in ablations]}
    return {k: v for k, v in obj.items() if k in ("reasoning", "ablations")}


def _normalise_ablation(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    item = dict(item)
    if isinstance(item.get("action"), str):
        item["action"] = item["action"].strip().upper()
    for key in ("replacement", "metrics"):
        if isinstance(item.get(key), str):
            item[key] = [part.strip() for part in item[key].split(",") if part.strip()]
        elif item.get(key) is None:
            item[key] = []
    return item


def reply_object(reply: Reply) -> Any:
    """The JSON object a reply carries: the tool input, the tagged blocks, or JSON in the text."""
    if reply.data is not None:
        return reply.data
    tagged = _tagged(reply.text) if reply.mode == "tagged" else None
    if tagged is not None:
        return tagged
    try:
        return loads_lenient(reply.text)
    except ValueError:
        raise ValueError("the answer is not valid JSON: " + _excerpt(reply.text)) from None


def parse_plan(reply: Reply, count: int) -> tuple[Plan | None, list[str], list[str]]:
    """The plan in `reply` if it meets every rule (made card-safe), its errors, and its warnings.

    An answer holding several structured objects (several tool calls where one was asked for) is
    never read as its first one silently: the first valid one is taken, with a warning saying so."""
    if reply.alternatives:
        return _first_valid([reply.data, *reply.alternatives], count)
    notes = ["the answer was cut off at the token limit; write shorter fields"] if reply.truncated else []
    try:
        obj = reply_object(reply)
    except ValueError as exc:
        return None, [*notes, str(exc)], []
    plan, errors, warnings = _checked(obj, count)
    return (plan, [], warnings) if plan is not None and not notes else (None, [*notes, *errors], [])


def _checked(obj: Any, count: int) -> tuple[Plan | None, list[str], list[str]]:
    plan, errors = rules.validate(_normalise(obj) if isinstance(obj, (dict, list)) else obj, count)
    if plan is None or errors:
        return None, errors, []
    safe, warnings = rules.normalise(plan)
    return safe, [], warnings


def _first_valid(objects: list[Any], count: int) -> tuple[Plan | None, list[str], list[str]]:
    checked = [_checked(obj, count) for obj in objects]
    for number, (plan, _, warnings) in enumerate(checked, 1):
        if plan is not None:
            return plan, [], [*warnings, f"the answer held {len(objects)} structured answers where one was asked "
                              f"for; answer {number}, the first valid one, was used"]
    errors = [f"answer {n}: {e}" for n, (_, errs, _) in enumerate(checked, 1) for e in errs[:3]]
    return None, [f"give exactly one answer (this one held {len(objects)}, none valid)", *errors], []


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return repr(text[:120] + ("..." if len(text) > 120 else "")) if text else "the answer was empty"

