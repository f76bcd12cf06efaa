"""What the latest evaluation of each task said, read as data for the site.

`planner eval` writes `OUT/eval/<task>/<run>/results.jsonl` (one row per scored plan: its
scores, its matches as 0-based [plan index, truth index] pairs, and the names behind them),
`run.json` beside it (what the run scored, and the per-model table eval printed) with a
chart, and names the newest run of each task in `OUT/eval/latest.json`. The site sits below
the evaluation code, so these files are its only contract with it. Whatever is missing,
malformed or reaches outside the output folder leaves that task without scores and logs
one warning; it never fails a regenerate.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from planner.inputs import resolves_inside

log = logging.getLogger(__name__)
LATEST = "latest.json"
MAX_RUN_BYTES = 4 << 20
MAX_RESULTS_BYTES = 1 << 30
MAX_CHART_BYTES = 16 << 20
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")  # fields eval adds later are not our business


class TruthItem(_Lenient):
    """One ground-truth (or, for the reviewer task, reported) ablation a plan was scored against."""

    name: str
    ablated_part: str = ""
    action: str = ""
    replacement: list[str] = []
    metrics: list[str] = []


class Row(_Lenient):
    """One scored plan of results.jsonl."""

    model: str
    slug: str
    paper: str
    task: str
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    ndcg: float | None = None
    duplicate_share: float | None = None
    top_k: int | None = None
    matches: list[tuple[int, int]] = []
    plan: list[str] = []
    truth: list[TruthItem] = []

    def problem(self) -> str | None:
        """Why the row cannot be shown, or None."""
        size, truth = len(self.plan), len(self.truth)
        if any(not (0 <= i < size and 0 <= j < truth) for i, j in self.matches):
            return f"a match of {self.model} on {self.paper} points outside its plan or ground truth"
        values = [v for v in (self.precision, self.recall, self.f1, self.ndcg, self.duplicate_share) if v is not None]
        if not values or any(not (math.isfinite(v) and 0 <= v <= 1) for v in values):
            return f"the scores of {self.model} on {self.paper} are missing or not between 0 and 1"
        return None


class RunInfo(_Lenient):
    """run.json: what the run scored and its per-model table."""

    task: str
    judge: str
    top_k: int | None = None
    papers: list[str] | None = None
    models: list[str] | None = None
    ground_truth: str = "library"
    scored: int = 0
    failed: int = 0
    finished: str = ""
    metrics: list[str] = []
    by_model: list[dict] = []


@dataclass
class ModelScores:
    """One line of the table eval printed: a model, its n, and per metric (mean, low, high)."""

    model: str
    n: int
    values: list[tuple[float, float, float]]


@dataclass
class Evaluation:
    """The latest evaluation of one task."""

    task: str
    folder: str  # relative to OUT/eval
    run: RunInfo
    table: list[ModelScores]
    rows: dict[tuple[str, str], Row]  # (paper, model slug) -> its row
    lines: dict[str, list[bytes]] = field(default_factory=dict)  # paper -> its rows as written (page digests)
    chart: tuple[str, bytes] | None = None  # file name, PNG
    identity: bytes = b""  # the folder and run.json as read: part of every page digest

    @property
    def metric(self) -> str:
        """The metric a grid cell shows."""
        return "duplicate_share" if self.task == "reviewer" else "f1"


class _Bad(Exception):
    """A file the site cannot use; the message says which and why."""


def _read(path: Path, out: Path, limit: int) -> bytes:
    if path.is_symlink() or not resolves_inside(path, out):
        raise _Bad(f"{path}: a link, or leads outside the output folder; not read")
    try:
        if not path.is_file():
            raise _Bad(f"{path}: missing")
        if path.stat().st_size > limit:
            raise _Bad(f"{path}: larger than {limit >> 20} MB")
        return path.read_bytes()
    except OSError as exc:
        raise _Bad(f"{path}: cannot read ({exc.strerror})") from None


def _table(run: RunInfo) -> list[ModelScores]:
    table = []
    for entry in run.by_model:
        try:
            values = [tuple(float(x) for x in entry[m]) for m in run.metrics]
            line = ModelScores(str(entry["model"]), int(entry["n"]), values)  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError):
            raise _Bad(f"run.json: a line of by_model is not model, n and [mean, low, high] per metric: "
                       f"{json.dumps(entry)[:120]}") from None
        if any(len(v) != 3 for v in line.values):
            raise _Bad(f"run.json: the scores of {line.model} are not [mean, low, high]")
        table.append(line)
    return table


def _chart(folder: Path, out: Path, metric: str) -> tuple[str, bytes] | None:
    name = f"{metric}_by_model.png"
    if not (folder / name).exists() and not (folder / name).is_symlink():
        return None  # a run that scored nothing draws no chart
    data = _read(folder / name, out, MAX_CHART_BYTES)
    if not data.startswith(PNG_MAGIC):
        raise _Bad(f"{folder / name}: not a PNG image")
    return name, data


def _load_task(out: Path, task: str, relative: object) -> Evaluation:
    if not isinstance(relative, str) or not relative or Path(relative).is_absolute() or ".." in Path(relative).parts:
        raise _Bad(f"{out / 'eval' / LATEST}: names {relative!r} for the {task} task, not a folder below eval/")
    folder = out / "eval" / relative
    raw_run = _read(folder / "run.json", out, MAX_RUN_BYTES)
    try:
        run = RunInfo.model_validate_json(raw_run)
    except ValidationError as exc:
        raise _Bad(f"{folder / 'run.json'}: not a run record ({exc.errors()[0]['msg']})") from None
    if run.task != task:
        raise _Bad(f"{folder / 'run.json'}: records the {run.task!r} task, not {task!r}")
    evaluation = Evaluation(task, relative, run, _table(run), {}, identity=relative.encode() + b"\0" + raw_run)
    for n, line in enumerate(_read(folder / "results.jsonl", out, MAX_RESULTS_BYTES).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = Row.model_validate_json(line)
        except ValidationError as exc:
            raise _Bad(f"{folder / 'results.jsonl'}:{n}: not a result row ({exc.errors()[0]['msg']})") from None
        problem = row.problem() or (None if row.task == task else f"a row of the {row.task!r} task")
        if problem:
            raise _Bad(f"{folder / 'results.jsonl'}:{n}: {problem}")
        evaluation.rows[(row.paper, row.slug)] = row
        evaluation.lines.setdefault(row.paper, []).append(line)
    evaluation.chart = _chart(folder, out, evaluation.metric)
    return evaluation


def latest_evaluations(out: Path, tasks: list[str]) -> dict[str, Evaluation]:
    """The latest evaluation of each task that has a usable one; one warning for each that has not."""
    path = out / "eval" / LATEST
    if not path.exists() and not path.is_symlink():
        return {}
    try:
        latest = json.loads(_read(path, out, MAX_RUN_BYTES))
        if not isinstance(latest, dict):
            raise _Bad(f"{path}: not an object of task -> folder")
    except (_Bad, ValueError) as exc:
        log.warning("the site shows no scores: %s", exc if isinstance(exc, _Bad) else f"{path}: not JSON")
        return {}
    found = {}
    for task in tasks:
        if task not in latest:
            continue
        try:
            found[task] = _load_task(out, task, latest[task])
        except _Bad as exc:
            log.warning("the site shows no %s-task scores: %s", task, exc)
    return found
