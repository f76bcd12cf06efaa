"""One job = one paper planned by one model for one task: is it done, run it, write it, or record why not.

`run` is one job and `batch` is many; both drivers end a job through `finish` or
`fail`, so cards, failure records and their token counts behave the same whichever
way the answers were bought.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from planner.cards.card import write_card
from planner.cards.store import (
    append_text,
    card_path,
    json_path,
    load_trajectory,
    safe_segment,
    save_trajectory,
)
from planner.core.conversation import Conversation, Done
from planner.core.schema import Plan, Provenance, Trajectory
from planner.errors import PlannerError
from planner.papers.paper import Paper
from planner.registry import ModelSpec
from planner.run.task import (
    PlanOptions,
    conversation,
    cost,
    fingerprint,
    provenance,
    trajectory,
)
from planner.secrets import redact

log = logging.getLogger(__name__)


@dataclass
class Job:
    paper: Paper
    spec: ModelSpec
    opts: PlanOptions

    def __post_init__(self) -> None:
        safe_segment(self.paper.id, "paper id")
        safe_segment(self.spec.slug, "model")
        self.opts.n  # noqa: B018 - validates --num-ablations before anything is sent

    @property
    def name(self) -> str:
        task = "" if self.opts.task == "author" else f" ({self.opts.task})"
        return f"{self.spec.name} on {self.paper.id}{task}"

    def placeholder(self) -> Trajectory:
        """A trajectory with the job's names, for computing its output paths."""
        return Trajectory(model=self.spec.name, slug=self.spec.slug, paper=self.paper.id,
                          task=self.opts.task, plan=Plan(reasoning="", ablations=[]))  # type: ignore[arg-type]

    def conversation(self) -> Conversation[Plan]:
        return conversation(self.paper, self.spec, self.opts)


def make_jobs(papers: list[Paper], specs: list[ModelSpec], opts: PlanOptions) -> list[Job]:
    """One job per paper and model, each pair once (aliases of a model are the same model)."""
    seen: set[tuple[str, str]] = set()
    jobs = []
    for paper in papers:
        for spec in specs:
            if (paper.id, spec.name) not in seen:
                seen.add((paper.id, spec.name))
                jobs.append(Job(paper, spec, opts))
    return jobs


@dataclass
class JobResult:
    job: Job
    status: str  # done | skipped | failed
    card: Path | None = None
    trajectory: Trajectory | None = None
    reason: str = ""
    provenance: Provenance | None = None
    spent_input: int = 0  # tokens bought on this run (answers from the cache cost nothing)
    spent_output: int = 0
    spent_cost: float | None = 0.0  # None: unknown (an answer without usage, or a model without a price)
    sync_cost: float | None = 0.0  # what the same answers cost without a batch discount

    def line(self) -> str:
        if self.status == "skipped":
            return f"{self.job.name}: skipped: {self.reason}"
        if self.status == "failed":
            return f"{self.job.name}: FAILED: {self.reason}"
        p = self.provenance or Provenance()
        cost = f"${p.cost_usd:.4f}" if p.cost_usd is not None else "cost unknown"
        cached = " (answered from the cache; nothing spent)" if p.cached else ""
        n = len(self.trajectory.plan.ablations) if self.trajectory else 0
        return (f"{self.job.name}: {n} ablations, {p.input_tokens} tokens in / {p.output_tokens} out, {cost}, "
                f"{p.latency_s or 0:.1f}s{cached}")


def on_disk(job: Job, out: Path) -> tuple[str, str]:
    """('todo' | 'done' | 'different', why): what is stored for this job already."""
    t = job.placeholder()
    card, stored_json = card_path(out, t), json_path(out, t)
    if not (card.is_file() and stored_json.is_file()):
        return "todo", ""
    try:
        stored = load_trajectory(stored_json)
    except PlannerError as exc:
        log.warning("%s: the stored trajectory cannot be read (%s); planning it again", job.name, exc)
        return "todo", ""
    wanted = fingerprint(job.conversation())
    if stored.provenance.request_sha256 not in (None, wanted):
        return "different", (f"{card} holds a plan made from a different request (the paper, prompts "
                             "or options changed); use --force to replace it")
    return "done", f"already done ({card}); use --force to plan again"


def finish(job: Job, out: Path, conv: Conversation[Plan], done: Done[Plan], provider: str, endpoint: str,
           via: str) -> JobResult:
    prov = provenance(job.spec, provider, endpoint, conv, via, job.paper)
    t = trajectory(job.spec, job.paper, job.opts, done, prov)
    try:
        path = save_trajectory(out, t, write_card(t))
    except PlannerError as exc:
        return fail(job, out, conv, [str(exc)], str(exc), provider, endpoint, via)
    return JobResult(job, "done", card=path, trajectory=t, provenance=t.provenance, **_spent(job, conv))


def _spent(job: Job, conv: Conversation[Any]) -> dict[str, Any]:
    tally = conv.tally
    return {"spent_input": tally.spent_input, "spent_output": tally.spent_output,
            "spent_cost": cost(job.spec, tally, bought_only=True),
            "sync_cost": cost(job.spec, tally, bought_only=True, at_batch_price=False)}


def fail(job: Job, out: Path, conv: Conversation[Any], errors: list[str], reason: str, provider: str,
         endpoint: str, via: str) -> JobResult:
    """Record the failure with what it cost; no card is written."""
    prov = provenance(job.spec, provider, endpoint, conv, via, job.paper)
    record_failure(out, job.name, {"paper": job.paper.id, "model": job.spec.name, "task": job.opts.task},
                   reason, errors, prov.model_dump())
    return JobResult(job, "failed", reason=reason, provenance=prov, **_spent(job, conv))


def record_failure(out: Path, name: str, identity: dict[str, str], reason: str, errors: list[str],
                   provenance: dict[str, Any] | None, file: str = "failures.jsonl") -> None:
    """Append one JSON line to `out/<file>` (planner.cards.store.append_text: one write per line, never in
    place through a hard link)."""
    row = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "job": name, **identity,
           "reason": redact(reason), "errors": [redact(e) for e in errors], "provenance": provenance}
    append_text(out / file, json.dumps(row, ensure_ascii=False) + "\n")
