"""Trajectory cards: write them exactly as the published seeds are written, and read them back.

The contract is round-tripping: whatever `read_card` accepts, `write_card` gives back
byte for byte (after the normalisation cards from the world need: a BOM, CRLF line
endings and a final newline are dropped on reading). The reader is strict about the
fixed scaffolding (style block, box lines, field labels) and keeps every value raw,
spaces included; anything it cannot place is reported with the file and line number,
never with the file's content (a card may be anything, a secret included). The writer
refuses a plan whose card would read back as something else (planner.core.rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from planner.core.rules import METRIC_SEPARATOR, card_errors, check
from planner.core.schema import Ablation, Plan, Provenance, Trajectory
from planner.errors import CardError
from planner.inputs import read_user_file
from planner.registry import model_slug


@dataclass(frozen=True)
class BoxColours:
    start: str
    end: str
    border: str
    heading: str


REASONING = BoxColours("#e3f2fd", "#bbdefb", "#2196f3", "#1976d2")
PLAN_BOXES = {
    "author": BoxColours("#f3e5f5", "#e1bee7", "#9c27b0", "#7b1fa2"),
    "reviewer": BoxColours("#e8f5e8", "#c8e6c9", "#4caf50", "#2e7d32"),
}
REASONING_TITLE = "🧠 Reasoning Trace"
PLAN_TITLE = "📋 Ablation Plan"
STYLE_BLOCK = """<style>
.trajectory-box strong {
  color: #1a1a1a !important;
}
.trajectory-box h3 {
  color: #1a1a1a !important;
}
</style>"""
COMPACT_END = "no-blank-line-before-close"  # the last ablation is followed directly by </div>
MAX_CARD_BYTES = 1_000_000  # what an imported card may weigh (the published ones weigh about 4 kB)
MAX_REASONING_CHARS = 100_000
MAX_FIELD_CHARS = 5_000  # a name, part, action, replacement or metric


def box_div(c: BoxColours) -> str:
    return (
        f'<div style="background: linear-gradient(135deg, {c.start} 0%, {c.end} 100%); '
        f"border-left: 5px solid {c.border}; padding: 20px; margin: 20px 0; border-radius: 8px; "
        'box-shadow: 0 2px 8px rgba(0,0,0,0.1); color: #1a1a1a;" class="trajectory-box">'
    )


def box_h2(colour: str, title: str) -> str:
    return (
        f'<h2 style="color: {colour}; margin-top: 0; margin-bottom: 15px; font-size: 1.3em;">'
        f"{title}</h2>"
    )


def _ablation_lines(ab: Ablation) -> list[str]:
    lines = [f"### {ab.name}", f"- **Ablated Part**: {ab.ablated_part}", f"- **Action**: {ab.action}"]
    if ab.replacement:
        lines.append("- **Replacement**: ")
        lines += [f"  - {item}" for item in ab.replacement]
    lines.append(f"- **Metrics**: {METRIC_SEPARATOR.join(ab.metrics)}")
    return lines


def write_card(t: Trajectory) -> str:
    """The card text of a trajectory, ending in `</div>` with no newline, like the seeds."""
    problems = card_errors(t.plan)
    if problems:
        raise CardError(f"{t.model} on {t.paper}: the card would not say what the plan says ({problems[0]}); "
                        "the stored plan breaks the card rules")
    plan = PLAN_BOXES[t.task]
    lines = [STYLE_BLOCK, "", f"# {t.planner}/{t.model}/{t.paper}", "", box_div(REASONING),
             box_h2(REASONING.heading, REASONING_TITLE), "", t.plan.reasoning, "</div>", "", box_div(plan),
             box_h2(plan.heading, PLAN_TITLE), ""]
    for ab in t.plan.ablations:
        lines += [*_ablation_lines(ab), ""]
    if t.plan.ablations and t.provenance.card_layout == COMPACT_END:
        lines.pop()
    lines.append("</div>")
    return "\n".join(lines)


# ---------------------------------------------------------------- reading


def undo_double_encoding(text: str) -> str:
    """Undo UTF-8 that was decoded as Windows-1252 and encoded again (as the seeds are).

    Correct cards always contain the heading emoji, which has no Windows-1252 form, so
    they are recognised for certain and returned untouched; only a text whose whole
    round trip through (sloppy) Windows-1252 decodes as UTF-8 is changed.
    """
    if REASONING_TITLE in text:
        return text
    import ftfy.bad_codecs  # noqa: F401  registers the sloppy codecs: maps 0x81 etc. like Windows did

    try:
        return text.encode("sloppy-windows-1252").decode("utf-8")
    except UnicodeError:
        return text


def normalise_text(raw: str) -> str:
    """What the byte-for-byte rule applies to: no BOM, '\\n' line endings, no newline after the final </div>."""
    text = undo_double_encoding(raw.removeprefix("\ufeff")).removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip("\n")


class _Lines:
    """A cursor over the card's lines that builds error messages with file and line number."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.split("\n")
        self.i = 0
        self.source = source

    def error(self, message: str, line: int | None = None) -> CardError:
        n = (self.i if line is None else line) + 1
        return CardError(f"{self.source}:{n}: {message}; is this an lm-planner trajectory card?")

    def peek(self) -> str | None:
        return self.lines[self.i] if self.i < len(self.lines) else None

    def take(self, expected: str | None = None, what: str = "") -> str:
        line = self.peek()
        if line is None:
            raise self.error(f"card ends early, expected {what or repr(expected)}")
        if expected is not None and line != expected:
            if self.i == len(self.lines) - 1 and expected.startswith(line):
                raise self.error(f"card ends early (truncated?), expected {what or repr(expected)}")
            raise self.error(f"expected {what or repr(expected)} here")
        self.i += 1
        return line

    def field(self, label: str) -> str:
        prefix = f"- **{label}**: "
        line = self.take(what=f"'{prefix}...'")
        if not line.startswith(prefix):
            self.i -= 1
            raise self.error(f"expected '{prefix}...' here")
        return line[len(prefix):]


def _header(cur: _Lines) -> tuple[str, str, str]:
    line = cur.take(what="'# lm-planner/<model>/<paper>'")
    parts = line[2:].split("/") if line.startswith("# ") else []
    if len(parts) != 3 or not all(parts):
        raise cur.error("expected the header '# lm-planner/<model>/<paper>'", cur.i - 1)
    return parts[0], parts[1], parts[2]


def read_card(raw: str, source: str = "<card>") -> Trajectory:
    """Parse card text (double-encoded or not) into a trajectory, warning on strict-rule breaks."""
    cur = _Lines(normalise_text(raw), source)
    for expected in STYLE_BLOCK.split("\n"):
        cur.take(expected, "the <style> block of a card")
    cur.take("", "a blank line after </style>")
    planner, model, paper = _header(cur)
    cur.take("")
    cur.take(box_div(REASONING), "the blue reasoning box")
    cur.take(box_h2(REASONING.heading, REASONING_TITLE), "the 'Reasoning Trace' heading")
    cur.take("", "a blank line after the reasoning heading")
    task, plan_start = _find_plan_box(cur)
    reasoning = "\n".join(cur.lines[cur.i : plan_start - 4])
    cur.i = plan_start
    cur.take("", "a blank line after the plan heading")
    ablations, compact = _read_ablations(cur)
    plan = Plan(reasoning=reasoning, ablations=ablations)
    return Trajectory(
        planner=planner, model=model, slug=model_slug(model), paper=paper, task=task, plan=plan,
        provenance=Provenance(source=source, warnings=check(plan), card_layout=COMPACT_END if compact else None),
    )


def _find_plan_box(cur: _Lines) -> tuple[str, int]:
    """Find the last '</div>, blank, plan box' run; reasoning may contain anything before it.

    Returns the task and the index of the line after the plan heading. The last match
    is the real one because ablation fields are single lines that never look like it.
    """
    for i in range(len(cur.lines) - 1, cur.i + 2, -1):
        for task, colours in PLAN_BOXES.items():
            if (
                cur.lines[i] == box_h2(colours.heading, PLAN_TITLE)
                and cur.lines[i - 1] == box_div(colours)
                and cur.lines[i - 2] == ""
                and cur.lines[i - 3] == "</div>"
            ):
                return task, i + 1
    raise cur.error("no purple or green 'Ablation Plan' box after the reasoning", len(cur.lines) - 1)


def _read_ablations(cur: _Lines) -> tuple[list[Ablation], bool]:
    """The ablations, and whether the last one is followed directly by '</div>' (no blank line)."""
    ablations: list[Ablation] = []
    compact = False
    while cur.peek() != "</div>":
        if cur.i >= len(cur.lines) - 1 and not cur.peek():
            raise cur.error("card ends early (truncated?), expected another ablation or the closing </div>")
        line = cur.take(what="'### <ablation name>' or the closing '</div>'")
        if not line.startswith("### "):
            raise cur.error("expected '### <ablation name>' or '</div>' here", cur.i - 1)
        ablations.append(_read_fields(cur, line[4:]))
        if cur.peek() == "</div>" and cur.i == len(cur.lines) - 1:
            compact = True
            break
        cur.take("", "a blank line after each ablation")
    cur.take("</div>")
    if cur.i != len(cur.lines):
        raise cur.error("text after the final </div>; a card ends there")
    return ablations, compact


def _read_fields(cur: _Lines, name: str) -> Ablation:
    part = cur.field("Ablated Part")
    action = cur.field("Action")
    replacement: list[str] = []
    if cur.peek() == "- **Replacement**: ":
        cur.take()
        while (line := cur.peek()) is not None and line.startswith("  - "):
            replacement.append(cur.take()[4:])
        if not replacement:
            raise cur.error("a '- **Replacement**: ' line must be followed by '  - <item>' lines")
    metrics_text = cur.field("Metrics")
    metrics = metrics_text.split(METRIC_SEPARATOR) if metrics_text else []
    return Ablation(name=name, ablated_part=part, action=action, replacement=replacement, metrics=metrics)


def read_card_file(path: Path) -> Trajectory:
    """Read a card from disk: a regular file of at most MAX_CARD_BYTES whose fields fit the caps below (a
    card's text is rendered again by every regenerate); undecodable bytes become a CardError naming the
    file (never its content)."""
    data = read_user_file(path, "card", MAX_CARD_BYTES, hint="a card is a markdown file of a few kB")
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CardError(f"{path}: not UTF-8 text (byte {exc.start}); a card is a UTF-8 markdown file") from None
    t = read_card(raw, str(path))
    fields = [("reasoning", t.plan.reasoning, MAX_REASONING_CHARS)] + [
        (f"ablation {i}", value, MAX_FIELD_CHARS) for i, ab in enumerate(t.plan.ablations, 1)
        for value in (ab.name, ab.ablated_part, ab.action, *ab.replacement, *ab.metrics)]
    for what, value, cap in fields:
        if len(value) > cap:
            raise CardError(f"{path}: the {what} holds {len(value):,} characters, more than the {cap:,} a card "
                            "field may hold; shorten it")
    return t
