"""The planning core as a pure step function: no server, no loop, every decision checked."""

from __future__ import annotations

from typing import Any

import pytest

from planner.core.conversation import Ask, Conversation, Done, Failed, Params, Verdict
from planner.core.messages import BUDGET, CONTEXT, FILTERED, REFUSED, OutputMode, Reply


class Echo:
    """A task that accepts the answer 'ok' and asks for a repair otherwise."""

    max_repairs = 1

    def system(self, mode: OutputMode) -> str:
        return f"system in {mode.value}"

    def first_message(self, mode: OutputMode) -> str:
        return "say ok"

    def schema(self, mode: OutputMode) -> dict[str, Any]:
        return {"type": "object", "mode": mode.value}

    def validate(self, reply: Reply) -> Verdict[str]:
        return Verdict("ok", warnings=["fine"]) if reply.text == "ok" else Verdict(None, [f"{reply.text!r} is not ok"])

    def repair_message(self, errors: list[str], mode: OutputMode) -> str:
        return "fix: " + "; ".join(errors)


CHAIN = (OutputMode.JSON_OBJECT, OutputMode.TAGGED)


def conv(mode: OutputMode = OutputMode.JSON_SCHEMA, fallbacks: tuple[OutputMode, ...] = CHAIN) -> Conversation[str]:
    return Conversation(Echo(), Params(model_id="m", max_tokens=10, temperature=0.5), mode, fallbacks=fallbacks)


def test_first_turn_then_done():
    c = conv()
    first = c.start()
    assert isinstance(first, Ask) and first.request.messages == (("user", "say ok"),)
    assert first.request.schema == {"type": "object", "mode": "json_schema"} and first.request.temperature == 0.5
    done = c.on_reply(Reply(text="ok", input_tokens=3, output_tokens=1))
    assert isinstance(done, Done) and done.value == "ok" and done.warnings == ["fine"]
    assert (c.tally.input_tokens, c.tally.spent_input, c.tally.replies) == (3, 3, 1)


def test_repair_turn_quotes_the_answer_and_the_errors_then_gives_up():
    c = conv()
    c.start()
    repair = c.on_reply(Reply(text="nope"))
    assert isinstance(repair, Ask)
    assert repair.request.messages[1:] == (("assistant", "nope"), ("user", "fix: 'nope' is not ok"))
    final = c.on_reply(Reply(text="still no", output_tokens=5), cached=True)
    assert isinstance(final, Failed) and final.errors == ["'still no' is not ok"]
    assert (c.repairs, c.tally.output_tokens, c.tally.spent_output, c.tally.cached_replies) == (1, 5, 0, 1)


def test_a_refused_mode_falls_back_and_starts_over():
    c = conv()
    c.start()
    c.on_reply(Reply(text="nope"))
    again = c.on_refused("json_schema refused")
    assert isinstance(again, Ask) and again.request.mode is OutputMode.JSON_OBJECT
    assert again.request.messages == (("user", "say ok"),) and c.repairs == 0
    assert isinstance(c.on_refused("json_object refused"), Ask) and c.mode is OutputMode.TAGGED
    assert c.on_refused("tagged refused?") == Failed(["tagged refused?"], "provider")
    assert c.notes == ["the endpoint refused json_schema output; trying json_object",
                       "the endpoint refused json_object output; trying tagged"]


def test_without_a_fallback_a_refused_mode_is_a_provider_failure():
    c = conv(OutputMode.TOOL, fallbacks=())
    c.start()
    assert c.on_refused("tools refused") == Failed(["tools refused"], "provider")


@pytest.mark.parametrize(("stop", "detail", "words"), [
    (REFUSED, "I can't help with that.", ["refused: \"I can't help with that.\"", "no repair turn"]),
    (FILTERED, "finish_reason content_filter", ["content filter", "content_filter"]),
    (BUDGET, "finish_reason length", ["whole output budget of 10 tokens", "900 of them on reasoning", "--max-tokens"]),
    (CONTEXT, "stop_reason model_context_window_exceeded", ["context window", "--context-window"]),
])
def test_a_final_answer_ends_the_conversation_at_once_and_is_counted(stop, detail, words):
    """A refusal, a content filter, a budget spent before answering or a context overflow: no repair turn
    (it would be billed and cannot help), one line that says what happened, and the tokens counted."""
    c = conv()
    c.start()
    end = c.on_reply(Reply(text="", input_tokens=7, output_tokens=900, reasoning_tokens=900, stop=stop,
                           stop_detail=detail))
    assert isinstance(end, Failed) and end.kind == "final" and c.repairs == 0 and len(end.errors) == 1
    assert all(w in end.errors[0] for w in words), end.errors[0]
    assert (c.tally.spent_input, c.tally.spent_output, c.tally.reasoning_tokens) == (7, 900, 900)


def test_an_answer_without_usage_leaves_the_cost_unknown():
    c = conv()
    c.start()
    c.on_reply(Reply(text="nope", usage_known=False))
    assert c.tally.usage_known is False and c.tally.usages[0][0].known is False


def test_batch_answers_are_counted_with_their_batch():
    c = conv()
    c.start()
    c.on_reply(Reply(text="ok", meta={"batch_id": "batch_1", "attempts": 1}))
    assert c.tally.batch_ids == ["batch_1"] and c.tally.attempts == 1
