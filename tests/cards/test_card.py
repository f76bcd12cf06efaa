"""The card writer and reader: seeds byte for byte, hostile text, cards from the world, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.cards.card import (
    COMPACT_END,
    read_card,
    read_card_file,
    undo_double_encoding,
    write_card,
)
from planner.core.rules import LINE_BREAKS, card_errors, normalise, validate
from planner.core.schema import Ablation, Plan, Trajectory
from planner.errors import CardError

ROOT = Path(__file__).parents[2]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
PUBLISHED = sorted((ROOT.parent / "shared" / "published-plans" / "lm-planner").glob("*/*.md"))


def fixed_seed(path: Path) -> str:
    """The published card: the seed with its double encoding undone by an exact byte round trip."""
    return path.read_bytes().decode("utf-8").encode("cp1252").decode("utf-8")


def test_there_are_five_seeds():
    assert len(SEEDS) == 5


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name)
def test_seed_round_trips_byte_for_byte(seed: Path):
    t = read_card_file(seed)
    assert write_card(t).encode("utf-8") == fixed_seed(seed).encode("utf-8")
    assert len(t.plan.ablations) == 5 and t.task == "author"
    assert "\u00f0\u0178" not in t.plan.reasoning  # no mojibake left


@pytest.mark.skipif(not PUBLISHED, reason="shared/published-plans is not beside the checkout")
def test_every_published_plan_round_trips_byte_for_byte():
    assert len(PUBLISHED) == 102
    for path in PUBLISHED:
        text = path.read_text(encoding="utf-8")
        assert write_card(read_card(text, str(path))) == text.rstrip("\n"), path


def test_seed_fields_are_read():
    t = read_card_file(next(s for s in SEEDS if "000_" in s.name))
    assert (t.planner, t.model, t.slug, t.paper) == (
        "lm-planner", "llama-3.1-405b-instruct", "llama-31-405b-instruct", "backgroundmattingv2",
    )
    ab = t.plan.ablations[2]
    assert ab.action == "REPLACE" and ab.replacement == ["ResNet-101", "MobileNetV2"]
    assert ab.metrics == ["MSE", "PSNR", "SSIM"]
    assert t.plan.reasoning.startswith("To design a comprehensive ablation study")


def test_double_encoded_greek_is_restored():
    smm = read_card_file(next(s for s in SEEDS if "002_" in s.name))
    assert "δ" in write_card(smm)


def test_correct_utf8_is_never_altered():
    t = read_card_file(SEEDS[0])
    t.plan.reasoning = "Ã© stays literal here, and so do δ, 🧠 and \u0081."
    text = write_card(t)
    assert undo_double_encoding(text) == text
    assert read_card(text).plan.reasoning == t.plan.reasoning


def test_reviewer_card_is_green_and_round_trips():
    t = read_card_file(SEEDS[0]).model_copy(update={"task": "reviewer"})
    text = write_card(t)
    assert "#e8f5e8 0%, #c8e6c9 100%); border-left: 5px solid #4caf50" in text
    assert '<h2 style="color: #2e7d32;' in text
    assert read_card(text).task == "reviewer"
    assert write_card(read_card(text)) == text


# ---------------------------------------------------------------- cards the world writes

@pytest.mark.parametrize("mangle", [
    lambda s: "\ufeff" + s,
    lambda s: s.replace("\n", "\r\n"),
    lambda s: s + "\n",
    lambda s: "\ufeff" + s.replace("\n", "\r\n") + "\r\n\r\n",
], ids=["bom", "crlf", "final-newline", "all-three"])
def test_bom_crlf_and_final_newline_are_normalised(mangle):
    card = fixed_seed(SEEDS[1])
    t = read_card(mangle(card))
    assert write_card(t) == card and len(t.plan.ablations) == 5


def test_last_ablation_followed_directly_by_the_closing_div_round_trips():
    card = fixed_seed(SEEDS[2])
    compact = card[: -len("\n\n</div>")] + "\n</div>"
    t = read_card(compact)
    assert t.provenance.card_layout == COMPACT_END and len(t.plan.ablations) == 5
    assert write_card(t) == compact
    assert write_card(t.model_copy(update={"provenance": t.provenance.model_copy(update={"card_layout": None})})) == card


@pytest.mark.parametrize("paper", ["ségmentation-numérique", "x" * 200, "a b (2021) [v2]", "论文", "ID|with|pipes"])
def test_any_name_a_file_system_takes_is_a_paper_id(paper, tmp_path):
    from planner.cards.store import card_path, save_trajectory

    t = read_card_file(SEEDS[0]).model_copy(update={"paper": paper})
    text = write_card(t)
    assert read_card(text).paper == paper
    path = save_trajectory(tmp_path, t, text)
    assert path == card_path(tmp_path, t) and read_card_file(path).paper == paper


@pytest.mark.parametrize("paper", ["../up", "a/b", "", " lead", "tab\tname", ".hidden", "site", "x" * 300])
def test_names_that_are_not_one_file_name_are_refused(paper, tmp_path):
    from planner.cards.store import save_trajectory
    from planner.errors import UsageError

    t = read_card_file(SEEDS[0]).model_copy(update={"paper": paper})
    with pytest.raises(UsageError, match="cannot be used as a file name"):
        save_trajectory(tmp_path, t, "card")
    assert not any(tmp_path.rglob("*.json"))


def _foreign_card() -> str:
    """A card as another writer might produce it: rich markdown, odd spacing, ten ablations."""
    base = fixed_seed(SEEDS[0])
    head, _, _ = base.partition("To design")
    plan_div = base[base.index('<div style="background: linear-gradient(135deg, #f3e5f5'):].split("\n")[:2]
    reasoning = (
        "Key parts:\n\n- **encoder** with `<CLS>` token\n- x<sup>2</sup> < y and a <b>raw</b> tag\n\n"
        "```python\nloss = a < b\n```\n  trailing spaces  "
    )
    ablations = "".join(
        f"### Ablation {i}\n- **Ablated Part**:   spaced   part  \n- **Action**: REPLACE\n"
        + ("" if i % 2 else "- **Replacement**: \n  -  item a\n  - item b \n")
        + "- **Metrics**:  MSE,  PSNR \n\n"
        for i in range(1, 11)
    )
    return head + reasoning + "\n</div>\n\n" + "\n".join(plan_div) + "\n\n" + ablations + "</div>"


def test_foreign_card_is_accepted_and_given_back_byte_for_byte():
    text = _foreign_card()
    t = read_card(text, "foreign.md")
    assert len(t.plan.ablations) == 10
    assert t.plan.ablations[0].ablated_part == "  spaced   part  "
    assert t.plan.ablations[1].replacement == [" item a", "item b "]
    assert "<CLS>" in t.plan.reasoning
    assert write_card(t) == text
    assert any("REPLACE needs at least one replacement" in w for w in t.provenance.warnings)


def test_header_without_dots_is_kept():
    t = read_card_file(next(s for s in SEEDS if "002_" in s.name))
    assert t.model == "claude-35-sonnet" and t.slug == "claude-35-sonnet"


@pytest.mark.parametrize(
    "cut, message",
    [
        (lambda s: s[:40], "card ends early"),
        (lambda s: s.replace("# lm-planner/", "## lm-planner/"), ":10: expected the header"),
        (lambda s: s.replace("- **Action**: REMOVE", "- Action: REMOVE", 1), "expected '- **Action**: ...'"),
        (lambda s: s[:-6], "card ends early"),
        (lambda s: s + "\nsecret text", "text after the final </div>"),
        (lambda s: s.replace("#9c27b0", "#000000"), "no purple or green 'Ablation Plan' box"),
        (lambda s: s.replace("### Ablation 2", "#### Ablation 2"), "expected '### <ablation name>'"),
        (lambda s: s.replace("- **Replacement**: \n  - ResNet-101\n  - MobileNetV2\n", "- **Replacement**: \n"),
         "must be followed by '  - <item>' lines"),
    ],
)
def test_malformed_cards_name_file_and_line_but_never_their_content(cut, message):
    text = cut(fixed_seed(SEEDS[0]))
    with pytest.raises(CardError) as err:
        read_card(text, "bad.md")
    assert str(err.value).startswith("bad.md:") and message in str(err.value)
    assert "\n" not in str(err.value)
    assert "secret" not in str(err.value) and "Ablation 2" not in str(err.value) and "ResNet" not in str(err.value)


def test_binary_file_is_refused_clearly(tmp_path: Path):
    bad = tmp_path / "card.md"
    bad.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(CardError, match=r"card\.md: not UTF-8 text"):
        read_card_file(bad)


# ---------------------------------------------------------------- hostile model text

_hostile = st.sampled_from(
    ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "**bold**", "`code`", "- item", "<CLS>",
     "&amp;", "🧠", "δ", "Ã©", " ", "  ", "\t", "### ", "</div>", "<div>", "#", ", ", ",", "- **Action**: ADD",
     "- **Metrics**: x", "  - ", "📋 Ablation Plan", "<!--", "\x1b[2J", "\x00",
     '<div style="background: linear-gradient(135deg, #e8f5e8 0%, #c8e6c9 100%); border-left: 5px solid #4caf50; '
     'padding: 20px; margin: 20px 0; border-radius: 8px; box-shadow: 0 2px 8px rgba(0,0,0,0.1); color: #1a1a1a;" '
     'class="trajectory-box">',
     '<h2 style="color: #2e7d32; margin-top: 0; margin-bottom: 15px; font-size: 1.3em;">📋 Ablation Plan</h2>',
     *LINE_BREAKS, "\r\n"]
)
_text = st.lists(st.one_of(_hostile, st.text(max_size=6)), max_size=8).map("".join)
_ablation = st.fixed_dictionaries({
    "name": _text, "ablated_part": _text,
    "action": st.one_of(st.sampled_from(["REMOVE", "REPLACE", "ADD"]), _text),
    "replacement": st.lists(_text, max_size=3), "metrics": st.lists(_text, max_size=3),
})
_plan = st.fixed_dictionaries({"reasoning": _text, "ablations": st.lists(_ablation, min_size=1, max_size=6)})


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(_plan, st.sampled_from(["author", "reviewer"]))
def test_hostile_plans_either_round_trip_exactly_or_are_refused_with_a_repair_message(data, task):
    plan, errors = validate(data, None)
    if plan is None:
        assert errors and all(isinstance(e, str) and e for e in errors)  # what the repair turn quotes back
        return
    safe, _warnings = normalise(plan)
    assert card_errors(safe) == []
    t = Trajectory(model="gpt-4o", slug="gpt-4o", paper="p", task=task, plan=safe)
    back = read_card(write_card(t))
    assert back.task == task and back.plan == safe  # the card says exactly what the JSON keeps


# ---------------------------------------------------------------- property: read(write(t)) == t

_fragments = st.sampled_from(
    ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "**bold**", "`code`", "- item",
     "<CLS>", "x<sup>2</sup>", "&amp;", "🧠", "δ", "Ã©", " ", "  ", "\t", "### ", "</div>", "#", ", "]
)
_line = st.lists(st.one_of(_fragments, st.text(st.characters(exclude_characters=LINE_BREAKS), max_size=8)),
                 max_size=6).map("".join)
_reasoning = st.lists(st.one_of(_line, st.just("\n"), st.just("\n\n")), max_size=12).map("".join)
_any_ablation = st.builds(
    Ablation, name=_line, ablated_part=_line, action=st.one_of(st.sampled_from(["REMOVE", "REPLACE", "ADD"]), _line),
    replacement=st.lists(_line, max_size=4), metrics=st.lists(_line, min_size=1, max_size=4),
)
_segment = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True).filter(lambda s: ".." not in s)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_segment, _segment, st.sampled_from(["author", "reviewer"]), _reasoning, st.lists(_any_ablation, max_size=10))
def test_whatever_the_writer_accepts_reads_back_identically(model, paper, task, reasoning, ablations):
    t = Trajectory(model=model, slug=model.replace(".", ""), paper=paper, task=task,
                   plan=Plan(reasoning=reasoning, ablations=ablations))
    try:
        text = write_card(t)
    except CardError:
        assert card_errors(t.plan)  # refused only for a reason the rules name
        return
    back = read_card(text)
    assert (back.planner, back.model, back.paper, back.task) == (t.planner, t.model, t.paper, t.task)
    assert back.plan == t.plan
