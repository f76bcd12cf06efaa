"""import-cards and regenerate through the CLI: seeds reproduced, bad files isolated."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from planner.cli import main

ROOT = Path(__file__).parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))


def published(seed: Path) -> bytes:
    return seed.read_bytes().decode("utf-8").encode("cp1252")


def test_import_then_regenerate_reproduces_every_seed(tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["import-cards", str(ROOT / "seeds"), "--out", str(out)]) == 0
    assert "imported 5 card(s)" in capsys.readouterr().out
    for card in out.rglob("*.md"):
        card.unlink()  # prove regenerate rebuilds them from JSON alone
    assert main(["regenerate", "--out", str(out)]) == 0
    cards = sorted(out.glob("lm-planner/*/*.md"))
    assert len(cards) == 5
    wanted = {published(s) for s in SEEDS}
    assert {c.read_bytes() for c in cards} == wanted
    index = (out / "trajectories.md").read_text(encoding="utf-8")
    assert "[5 ablations](lm-planner/gpt-4o/dad-3dheads.md)" in index
    assert (out / "site/index.html").is_file()


def test_json_is_lossless(tmp_path: Path):
    main(["import-cards", str(SEEDS[0]), "--out", str(tmp_path)])
    data = json.loads(next(tmp_path.rglob("*.json")).read_text(encoding="utf-8"))
    assert data["planner"] == "lm-planner" and data["task"] == "author"
    assert data["slug"] == "llama-31-405b-instruct" and data["model"] == "llama-3.1-405b-instruct"
    assert data["provenance"]["source"].endswith(SEEDS[0].name)


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path, capsys):
    cards = tmp_path / "cards" / "nested"
    cards.mkdir(parents=True)
    for seed in SEEDS[:2]:
        shutil.copy(seed, cards / f"{seed.stem}.anything")
    (cards / "broken.md").write_text(SEEDS[2].read_text(encoding="utf-8")[:900], encoding="utf-8")
    code = main(["import-cards", str(tmp_path / "cards"), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 1
    assert "imported 2 card(s)" in captured.out and "1 failed" in captured.out
    assert "broken.md:" in captured.err and "Traceback" not in captured.err
    assert len(list((tmp_path / "out").rglob("*.json"))) == 2


def test_strict_rule_breaks_import_with_a_warning(tmp_path: Path, capsys):
    text = published(SEEDS[0]).decode("utf-8").replace("- **Replacement**: \n  - ResNet-101\n  - MobileNetV2\n", "")
    (tmp_path / "loose.md").write_text(text, encoding="utf-8")
    assert main(["import-cards", str(tmp_path / "loose.md"), "--out", str(tmp_path / "out")]) == 0
    assert "REPLACE needs at least one replacement" in capsys.readouterr().err
    card = next((tmp_path / "out").rglob("*.md"))
    assert card.read_text(encoding="utf-8") == text  # kept exactly as it was


def test_missing_path_and_missing_out_are_usage_errors(tmp_path: Path, capsys):
    assert main(["import-cards", str(tmp_path / "nope"), "--out", str(tmp_path)]) == 2
    assert main(["regenerate", "--out", str(tmp_path / "absent")]) == 2
    err = capsys.readouterr().err
    assert err.count("planner: error:") == 2 and "Traceback" not in err


def test_corrupt_json_is_reported_and_others_regenerate(tmp_path: Path, capsys):
    main(["import-cards", str(ROOT / "seeds"), "--out", str(tmp_path)])
    victim = next(tmp_path.rglob("*.json"))
    victim.write_text("{not json", encoding="utf-8")
    assert main(["regenerate", "--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert f"{victim}: not a trajectory JSON file" in captured.err
    assert "regenerated 4 card(s)" in captured.out


def test_unsafe_names_in_json_never_leave_out(tmp_path: Path, capsys):
    main(["import-cards", str(SEEDS[0]), "--out", str(tmp_path / "out")])
    victim = next((tmp_path / "out").rglob("*.json"))
    data = json.loads(victim.read_text(encoding="utf-8"))
    data["paper"] = "../../escaped"
    victim.write_text(json.dumps(data), encoding="utf-8")
    assert main(["regenerate", "--out", str(tmp_path / "out")]) == 1
    assert "cannot be used as a file name" in capsys.readouterr().err
    assert not list(tmp_path.glob("escaped*"))


def test_importing_over_a_paid_trajectory_needs_force(tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["import-cards", str(SEEDS[0]), "--out", str(out)]) == 0
    stored = next(out.rglob("*.json"))
    data = json.loads(stored.read_text(encoding="utf-8"))
    data["provenance"].update(provider="openrouter", input_tokens=1234, cost_usd=0.5)
    data["plan"]["ablations"][0]["name"] = "A planned ablation"
    stored.write_text(json.dumps(data), encoding="utf-8")
    assert main(["import-cards", str(SEEDS[0]), "--out", str(out)]) == 1
    assert "already holds a planned trajectory" in capsys.readouterr().err
    assert json.loads(stored.read_text(encoding="utf-8"))["provenance"]["cost_usd"] == 0.5
    assert main(["import-cards", str(SEEDS[0]), "--out", str(out), "--force"]) == 0
    assert json.loads(stored.read_text(encoding="utf-8"))["provenance"]["cost_usd"] is None


def test_reimporting_planner_output_keeps_it_as_it_is(tmp_path: Path, capsys):
    out, copy = tmp_path / "out", tmp_path / "copy"
    assert main(["import-cards", str(ROOT / "seeds"), "--out", str(out)]) == 0
    assert main(["regenerate", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["import-cards", str(out), "--out", str(out)]) == 0  # JSON, pages and the index are skipped
    assert "imported 0 card(s)" in capsys.readouterr().out
    assert main(["import-cards", str(out), "--out", str(copy)]) == 0
    assert "imported 5 card(s)" in capsys.readouterr().out
    assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*.md")) == sorted(
        p.relative_to(out).as_posix() for p in out.glob("lm-planner/*/*.md"))


@pytest.mark.parametrize("header", ["# site/gpt-4o/simsiam", "# lm-planner/eval/simsiam", "# lm-planner/../simsiam",
                                    "# reviewer/gpt-4o/simsiam"])
def test_reserved_planner_and_model_names_are_refused(tmp_path: Path, capsys, header):
    text = published(SEEDS[0]).decode("utf-8")
    first = text.split("\n")[9]
    (tmp_path / "odd.md").write_text(text.replace(first, header), encoding="utf-8")
    assert main(["import-cards", str(tmp_path / "odd.md"), "--out", str(tmp_path / "out")]) == 1
    assert "cannot be used as a file name" in capsys.readouterr().err
    assert not list((tmp_path / "out").rglob("*.json"))


def test_an_unchanged_tree_is_not_rewritten(tmp_path: Path):
    out = tmp_path / "out"
    assert main(["import-cards", str(ROOT / "seeds"), "--out", str(out)]) == 0
    assert main(["regenerate", "--out", str(out)]) == 0
    files = [p for p in out.rglob("*") if p.is_file() and ".planner" not in p.parts]
    before = {p: p.stat().st_mtime_ns for p in files}
    time.sleep(0.01)
    assert main(["regenerate", "--out", str(out)]) == 0
    assert {p: p.stat().st_mtime_ns for p in files} == before
