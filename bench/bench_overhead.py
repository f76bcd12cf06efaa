"""Per-plan local overhead: build the request, parse and validate the reply, write card and JSON.

Everything a plan costs on this machine apart from the model call (target under 5 ms).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from _common import report

N = 300


def main() -> None:
    from conftest import plan_obj

    from planner.cards.card import write_card
    from planner.cards.outdir import claim
    from planner.cards.store import save_trajectory
    from planner.core.conversation import Done
    from planner.core.messages import Reply
    from planner.papers.library import load_paper
    from planner.registry import resolve
    from planner.run.task import PlanOptions, conversation, provenance, trajectory

    paper, spec, opts = load_paper("simsiam"), resolve("gpt-4o"), PlanOptions()
    reply = Reply(text=json.dumps(plan_obj(5)), input_tokens=3000, output_tokens=600)
    conversation(paper, spec, opts).request()  # warm the template caches
    with tempfile.TemporaryDirectory() as tmp:
        out = claim(Path(tmp) / "out")
        started = time.perf_counter()
        for i in range(N):
            conv = conversation(paper.__class__(**{**paper.__dict__, "id": f"p{i}"}), spec, opts)
            conv.start()
            done = conv.on_reply(reply)
            assert isinstance(done, Done)
            t = trajectory(spec, conv.task.paper, opts, done, provenance(spec, "openai", "x", conv, "sync", paper))
            save_trajectory(out, t, write_card(t))
        per_plan_ms = (time.perf_counter() - started) / N * 1000
    report(f"local overhead per plan ({N} plans)", per_plan_ms, 5.0, "ms")


if __name__ == "__main__":
    main()
