"""Staying inside --out: links are never followed out, only our own files are touched, one run at a time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SECRET, plan_obj
from fakeserver import FakeServer, Reply

from planner.cli.main import main

ROOT = Path(__file__).parents[2]
SEEDS = ROOT / "seeds"


def test_regenerate_never_writes_or_deletes_through_a_linked_site(tmp_path, capsys):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    assert main(["import-cards", str(SEEDS), "--out", str(out)]) == 0
    elsewhere.mkdir()
    (elsewhere / "precious.html").write_text("mine", encoding="utf-8")
    (out / "site").symlink_to(elsewhere, target_is_directory=True)
    assert main(["regenerate", "--out", str(out)]) == 2
    assert sorted(p.name for p in elsewhere.iterdir()) == ["precious.html"]
    assert "symbolic link" in capsys.readouterr().err


def test_a_folder_that_is_not_planner_output_is_refused(tmp_path, capsys):
    mine = tmp_path / "mine"
    (mine / "site").mkdir(parents=True)
    (mine / "site" / "index.html").write_text("my own site", encoding="utf-8")
    assert main(["import-cards", str(SEEDS), "--out", str(mine)]) == 2
    assert main(["regenerate", "--out", str(mine)]) == 2
    assert (mine / "site" / "index.html").read_text(encoding="utf-8") == "my own site"
    assert sorted(p.name for p in mine.rglob("*")) == ["index.html", "site"]
    assert capsys.readouterr().err.count("holds files planner did not make") == 2


def test_only_pages_planner_made_are_deleted_as_stale(tmp_path):
    out = tmp_path / "out"
    assert main(["import-cards", str(SEEDS), "--out", str(out)]) == 0
    assert main(["regenerate", "--out", str(out)]) == 0
    (out / "site" / "notes.html").write_text("a page of mine", encoding="utf-8")
    victim = next(out.glob("lm-planner/gpt-4o/*.json"))
    page = out / "site" / "lm-planner" / "gpt-4o" / (victim.stem + ".html")
    assert page.is_file()
    victim.unlink()
    victim.with_suffix(".md").unlink()
    assert main(["regenerate", "--out", str(out)]) == 0
    assert not page.exists() and (out / "site" / "notes.html").read_text(encoding="utf-8") == "a page of mine"


def test_links_out_of_input_folders_are_not_followed(tmp_path, capsys, monkeypatch):
    secret_file = tmp_path / "secret.tex"
    secret_file.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    latex = tmp_path / "paper"
    latex.mkdir()
    (latex / "main.tex").write_text("\\section{Method} we gate", encoding="utf-8")
    (latex / "leak.tex").symlink_to(secret_file)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["run", "--paper", str(latex), "--model", "gpt-4o", "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert "we gate" in captured.out and "TOP-SECRET-CONTENT" not in captured.out + captured.err
    assert "points outside" in captured.err

    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "real.md").write_bytes((SEEDS / sorted(os.listdir(SEEDS))[0]).read_bytes())
    outside = tmp_path / "not-a-card.md"
    outside.write_text("TOP-SECRET-CONTENT\n" * 20, encoding="utf-8")
    (cards / "link.md").symlink_to(outside)
    assert main(["import-cards", str(cards), "--out", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert "imported 1 card(s)" in captured.out and "TOP-SECRET-CONTENT" not in captured.out + captured.err


@pytest.mark.parametrize("out", ["", "."])
def test_out_must_name_a_folder(out, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["import-cards", str(SEEDS), "--out", out]) == 2
    assert list(tmp_path.iterdir()) == [] and "--out must name a folder" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["under-a-file", "proc"])
def test_an_unwritable_out_stops_before_any_paid_call(provider_env, tmp_path, capsys, where):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    out = blocker / "out" if where == "under-a-file" else Path("/proc/self/planner-out")
    code = main(["run", "--paper", "simsiam", "--model", "gpt-4o", "--out", str(out)])
    assert code == 2 and provider_env.requests == []
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not writable" in err


def _batch(out: Path, server: FakeServer) -> subprocess.Popen:
    env = {**os.environ, "OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": server.openai_base_url,
           "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "planner", "batch", "--papers", "simsiam,smm,dit,galore",
                             "--models", "gpt-4o", "--concurrency", "2", "--out", str(out)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def test_two_runs_on_one_out_take_turns_and_pay_once(tmp_path):
    with FakeServer(default=lambda r: Reply.json(plan_obj(5)), latency=1.5) as server:
        out = tmp_path / "out"
        first = _batch(out, server)
        deadline = time.monotonic() + 30
        holder = out / ".planner" / "holder.json"
        while not (holder.exists() and "\"pid\"" in holder.read_text()) and time.monotonic() < deadline:
            time.sleep(0.02)  # the first run holds the lock now; it needs at least 3 s more
        second = _batch(out, server)
        results = [p.communicate(timeout=120) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, results
    assert len(server.requests) == 4  # every job paid for once
    assert "is in use by pid" in results[1][1] and "waiting" in results[1][1]
    assert not list(out.rglob(".planner-tmp-*"))


def test_eval_never_writes_its_report_or_chart_through_a_linked_folder(tmp_path, capsys):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    assert main(["import-cards", str(SEEDS), "--out", str(out)]) == 0
    elsewhere.mkdir()
    (out / "eval").symlink_to(elsewhere, target_is_directory=True)
    assert main(["eval", "--judge", "offline", "--out", str(out)]) == 2
    assert list(elsewhere.iterdir()) == []
    assert "symbolic link" in capsys.readouterr().err


def test_an_out_folder_named_through_a_link_keeps_every_link_check(tmp_path, capsys):
    real, via, elsewhere = tmp_path / "real", tmp_path / "via", tmp_path / "elsewhere"
    assert main(["import-cards", str(SEEDS), "--out", str(real)]) == 0
    via.symlink_to(real, target_is_directory=True)  # --out may itself be a link: the user's choice
    elsewhere.mkdir()
    (real / "site").symlink_to(elsewhere, target_is_directory=True)  # a link below it is refused
    assert main(["regenerate", "--out", str(via)]) == 2
    assert list(elsewhere.iterdir()) == [] and "symbolic link" in capsys.readouterr().err


def test_a_linked_state_folder_is_refused(tmp_path, capsys):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / ".planner").symlink_to(elsewhere, target_is_directory=True)
    assert main(["import-cards", str(SEEDS), "--out", str(out)]) == 2
    assert list(elsewhere.iterdir()) == [] and "symbolic link" in capsys.readouterr().err


def test_a_hard_linked_lock_or_failures_file_is_never_written_in_place(provider_env, tmp_path, capsys):
    """`.planner/lock` hard-linked to a file elsewhere is not emptied, and a `cp -al` backup's copy of
    failures.jsonl does not grow with the folder's."""
    out, elsewhere, backup = tmp_path / "out", tmp_path / "elsewhere", tmp_path / "backup"
    provider_env.default = lambda request: Reply.status(400, "max_tokens: too large for this model")
    assert main(["run", "--paper", "simsiam", "--model", "gpt-4o", "--out", str(out)]) == 1
    elsewhere.mkdir()
    precious = elsewhere / "precious.txt"
    precious.write_text("my notes\n", encoding="utf-8")
    (out / ".planner/lock").unlink()
    os.link(precious, out / ".planner/lock")
    backup.mkdir()
    os.link(out / "failures.jsonl", backup / "failures.jsonl")  # what `cp -al out backup` makes
    kept = (backup / "failures.jsonl").read_bytes()
    assert main(["run", "--paper", "smm", "--model", "gpt-4o", "--out", str(out)]) == 1
    assert main(["import-cards", str(SEEDS), "--out", str(out)]) == 0
    assert precious.read_text(encoding="utf-8") == "my notes\n"
    assert (backup / "failures.jsonl").read_bytes() == kept
    assert len((out / "failures.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    assert os.stat(out / "failures.jsonl").st_nlink == 1  # replaced, so later appends go in place again


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_files_get_the_mode_the_umask_allows(tmp_path, umask):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "planner", "import-cards", str(SEEDS), "--out", str(out)],
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, capture_output=True, text=True,
                          preexec_fn=lambda: os.umask(umask))
    assert done.returncode == 0, done.stderr
    modes = {oct(p.stat().st_mode & 0o777) for p in out.rglob("*") if p.is_file()}
    folders = {oct(p.stat().st_mode & 0o777) for p in out.rglob("*") if p.is_dir()}
    assert modes == {oct(0o666 & ~umask)} and folders == {oct(0o777 & ~umask)}
