"""Evaluation reports: per-trajectory rows, a markdown table per model, and a chart.

Each run goes to its own folder, `OUT/eval/<task>/<judge>[-topK][-<filter id>]`, so runs
with different tasks, judges or filters sit side by side and never overwrite each
other; the report names its task, judge and filters and links its chart.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from planner.cards.store import atomic_write
from planner.eval.metrics import ReviewScore, Score, by_model

REVIEWER_NOTE = ("Reviewer plans propose ablations the paper is missing. Without reviewer data (the ablations "
                 "reviewers asked for), their recall of real requests cannot be measured here; the table shows "
                 "the share of suggestions that merely repeat an ablation the paper already reports (lower is "
                 "better).")


@dataclass(frozen=True)
class Run:
    """What an evaluation run scored: it names the folder and heads the report."""

    task: str
    judge: str
    top_k: int | None = None
    papers: tuple[str, ...] | None = None
    models: tuple[str, ...] | None = None
    truth: str = "library"  # whose ground truth: the library's, or the path of a folder the user gave

    @property
    def truth_label(self) -> str:
        return "the library's ground truth" if self.truth == "library" else f"the user's ground truth in {self.truth}"

    def record(self, scores: list[Score] | list[ReviewScore], failed: int) -> dict:
        """What the run scored, for run.json: the site reads the latest run of each task and shows its
        per-model table (`by_model`: n and each metric's [mean, low, high]) as `eval` printed it."""
        table = [{"model": model, "n": int(row["n"][0]), **{m: list(row[m]) for m in _metrics(scores, self)}}
                 for model, row in by_model(scores).items()]
        return {"task": self.task, "judge": self.judge, "top_k": self.top_k, "papers": self.papers,
                "models": self.models, "ground_truth": self.truth, "scored": len(scores), "failed": failed,
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                "metrics": list(_metrics(scores, self)), "by_model": table}

    @property
    def filters(self) -> str:
        parts = []
        if self.papers:
            parts.append("papers " + ", ".join(self.papers))
        if self.models:
            parts.append("models " + ", ".join(self.models))
        return "; ".join(parts) or "none (every stored plan of the task)"

    def folder(self, out: Path) -> Path:
        name = re.sub(r"[^A-Za-z0-9._+-]+", "-", self.judge).strip("-") + (f"-top{self.top_k}" if self.top_k else "")
        if self.papers or self.models or self.truth != "library":
            name += "-" + hashlib.sha256(f"{self.filters}\0{self.truth}".encode()).hexdigest()[:8]
        return out / "eval" / self.task / name


def _metrics(scores: list[Score] | list[ReviewScore], run: Run) -> tuple[str, ...]:
    return scores[0].METRICS if scores else (ReviewScore.METRICS if run.task == "reviewer" else Score.METRICS)


def markdown_table(scores: list[Score] | list[ReviewScore], run: Run) -> str:
    suffix = f"@{run.top_k}" if run.top_k else ""
    metrics = _metrics(scores, run)
    lines = [(f"Task: {run.task}. Judge: {run.judge}. Ground truth: {run.truth_label}. Filters: {run.filters}. "
              "Mean [95% bootstrap interval] over trajectories."), "",
             "| model | n | " + " | ".join(f"{m}{suffix}" for m in metrics) + " |",
             "|---|---:|" + "---:|" * len(metrics)]
    for model, row in by_model(scores).items():
        cells = [f"{row[m][0]:.3f} [{row[m][1]:.3f}, {row[m][2]:.3f}]" for m in metrics]
        lines.append(f"| {model} | {int(row['n'][0])} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def chart(scores: list[Score] | list[ReviewScore], metric: str, title: str) -> bytes:
    """A PNG bar chart of one metric's mean per model, with its 95% interval as error bars."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = by_model(scores)
    models = list(table)
    means = [table[m][metric][0] for m in models]
    errors = [[mean - table[m][metric][1] for m, mean in zip(models, means)],
              [table[m][metric][2] - mean for m, mean in zip(models, means)]]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.3 * len(models) + 2), 4), dpi=110)
    bars = ax.bar(models, means, yerr=errors, capsize=4, color="#9c27b0", alpha=0.85)
    ax.bar_label(bars, labels=[f"{m:.2f}" for m in means], padding=3)
    ax.set_ylim(0, 1)
    ax.set_ylabel(f"{metric} (mean, 95% interval)")
    ax.set_title(title)
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png")
    plt.close(fig)
    return png.getvalue()


def write_report(out: Path, scores: list[Score] | list[ReviewScore], run: Run, failed: list[str]) -> Path:
    folder = run.folder(out)
    metric = "duplicate_share" if run.task == "reviewer" else "f1"
    image = f"{metric}_by_model.png"
    lines = [f"# Evaluation: {run.task} task, judge {run.judge}", "", markdown_table(scores, run)]
    if run.task == "reviewer":
        lines += [REVIEWER_NOTE, ""]
    if scores:
        lines += [f"![{metric} by model]({image})", ""]
        atomic_write(folder / image, chart(scores, metric, f"{metric} per model ({run.judge}, {run.task})"))
    if failed:
        lines += [f"{len(failed)} plan(s) could not be judged (see failures.jsonl):", ""]
        lines += [f"- {line}" for line in failed] + [""]
    lines += match_sections(scores, run.task)
    atomic_write(folder / "results.jsonl", "".join(json.dumps(s.row(), ensure_ascii=False) + "\n" for s in scores))
    atomic_write(folder / "report.md", "\n".join(lines).rstrip() + "\n")
    atomic_write(folder / "run.json", json.dumps(run.record(scores, len(failed)), indent=1) + "\n")
    _mark_latest(out, run.task, folder)
    return folder


_MARKDOWN = re.compile(r"([\\`*_\[\]<>#|~!])")


def _md(text: str) -> str:
    """Model-written text as literal markdown: one line, its markup characters escaped."""
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))


def match_sections(scores: list[Score] | list[ReviewScore], task: str) -> list[str]:
    """Per plan, which planned ablation matched which ground-truth entry, by name (numbered from 1)."""
    found_word = "duplicates" if task == "reviewer" else "matches"
    lines = ["## Matches per plan", "",
             (f"Numbered from 1 in each list's order (results.jsonl has the same pairs from 0). Reading: plan item "
              f"-> the ground-truth entry it {found_word}."), ""]
    for s in scores:
        lines += [f"### {_md(s.model)} on {_md(s.paper)}", ""]
        truth_names = [t["name"] for t in s.truth]
        lines += [f"- plan {i + 1} \"{_md(s.plan[i])}\" -> ground truth {j + 1} \"{_md(truth_names[j])}\""
                  for i, j in s.matches]
        if not s.matches:
            lines.append("- no planned ablation matched")
        missed = [j for j in range(len(truth_names)) if all(j != m for _, m in s.matches)]
        if missed:
            lines.append("- ground truth not found: " + "; ".join(f'{j + 1} "{_md(truth_names[j])}"' for j in missed))
        lines.append("")
    return lines


LATEST = "latest.json"


def _mark_latest(out: Path, task: str, folder: Path) -> None:
    """OUT/eval/latest.json: task -> the folder of its latest run, relative to OUT/eval."""
    path = out / "eval" / LATEST
    try:
        latest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        latest = {}
    latest = latest if isinstance(latest, dict) else {}
    latest[task] = folder.relative_to(out / "eval").as_posix()
    atomic_write(path, json.dumps(latest, indent=1, sort_keys=True) + "\n")
