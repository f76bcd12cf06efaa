"""import-cards and regenerate through the CLI: seeds reproduced, bad files isolated."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from planner.cli.main import main

ROOT = Path(__file__).parents[2]
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
    assert main(["eval", "--judge", "offline", "--out", str(tmp_path / "absent")]) == 2
    err = capsys.readouterr().err
    assert err.count("planner: error:") == 3 and "Traceback" not in err
    assert err.count("absent: no such folder") == 2 and not (tmp_path / "absent").exists()


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


# A fresh interpreter (no test threads, so workers may fork) that stores N trajectories and
# regenerates them. argv: out, N, parallel_from, mode ("" | "link" | "crash"). Prints the
# summary and the pids that rendered, as JSON.
_SWEEP = r"""
import json, os, sys
from pathlib import Path
import planner.cards.regenerate as regen
from planner.cards.card import read_card_file, write_card
from planner.cards.outdir import claim
from planner.cards.store import save_trajectory

out, n, regen.PARALLEL_FROM, mode = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
seeds = [read_card_file(p) for p in sorted(Path(sys.argv[5]).glob("*.txt"))]
out = claim(out)
for i in range(n):
    t = seeds[i % len(seeds)].model_copy(update={"paper": f"paper-{i // 4:02d}", "slug": f"model-{i % 4}",
                                                 "model": f"model-{i % 4}"})
    save_trajectory(out, t, write_card(t))
for card in out.rglob("*.md"):
    card.unlink()
if mode == "link":
    (out / "lm-planner/model-1/paper-03.md").symlink_to(out.parent / "elsewhere.md")
pids, parent, chunk = out.parent / "pids", os.getpid(), regen._derive_chunk

def recording(out_, items):
    if mode == "crash" and os.getpid() != parent:
        os._exit(3)
    with open(pids, "a") as fh:
        fh.write(f"{os.getpid()}\n")
    return chunk(out_, items)

regen._derive_chunk = recording
summary, _ = regen.regenerate(out)
print(json.dumps({"done": summary.done, "failed": summary.failed, "unchanged": summary.unchanged,
                  "parent": parent, "pids": sorted(set(pids.read_text().split()))}))
"""


def _sweep(tmp_path: Path, name: str, n: int, parallel_from: int, mode: str = "") -> dict:
    import subprocess
    import sys

    folder = tmp_path / name
    folder.mkdir()
    done = subprocess.run([sys.executable, "-c", _SWEEP, str(folder / "out"), str(n), str(parallel_from), mode,
                           str(ROOT / "seeds")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    result["files"] = {p.relative_to(folder / "out").as_posix(): p.read_bytes()
                       for p in (folder / "out").rglob("*") if p.is_file() and ".planner" not in p.parts}
    result["stderr"] = done.stderr
    return result


@pytest.mark.skipif(os.cpu_count() == 1, reason="one core: regenerate never starts workers")
def test_workers_write_exactly_what_one_process_writes(tmp_path: Path):
    alone = _sweep(tmp_path, "alone", 40, parallel_from=10**9)
    pooled = _sweep(tmp_path, "pooled", 40, parallel_from=1)
    assert alone["pids"] == [str(alone["parent"])]
    assert str(pooled["parent"]) not in pooled["pids"] and len(pooled["pids"]) >= 2
    assert pooled["done"] == alone["done"] == 40 and not pooled["failed"] and pooled["unchanged"] == 0
    assert len(pooled["files"]) == 2 * 40 + 2 + 40 + 10  # cards, pages, two indexes, trajectories, paper pages
    assert pooled["files"] == alone["files"]


@pytest.mark.skipif(os.cpu_count() == 1, reason="one core: regenerate never starts workers")
def test_a_worker_refusing_one_card_reports_it_and_writes_the_rest(tmp_path: Path):
    result = _sweep(tmp_path, "link", 40, parallel_from=1, mode="link")
    assert str(result["parent"]) not in result["pids"]
    assert result["done"] == 39 and len(result["failed"]) == 1
    assert "paper-03.md is a symbolic link" in result["failed"][0]
    assert not (tmp_path / "link" / "elsewhere.md").exists()
    assert "site/lm-planner/model-1/paper-03.html" not in result["files"]
    assert sum(name.endswith(".html") for name in result["files"]) == 39 + 1 + 10  # and the 10 papers' pages


@pytest.mark.skipif(os.cpu_count() == 1, reason="one core: regenerate never starts workers")
def test_a_broken_pool_falls_back_to_one_process(tmp_path: Path):
    alone = _sweep(tmp_path, "alone", 40, parallel_from=10**9)
    crashed = _sweep(tmp_path, "crash", 40, parallel_from=1, mode="crash")
    assert crashed["pids"] == [str(crashed["parent"])]  # workers died before writing; the parent did it all
    assert "worker pool failed" in crashed["stderr"]
    assert crashed["done"] == 40 and not crashed["failed"]
    assert crashed["files"] == alone["files"]
