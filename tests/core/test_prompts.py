"""Prompt templates: strict and sandboxed rendering, overrides, and what each task may see."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import plan_obj
from fakeserver import Reply

from planner.cli.main import main
from planner.core.messages import OutputMode
from planner.core.prompts import render
from planner.errors import UsageError
from planner.papers.library import GROUND_TRUTH_DIR, library_ids, load_paper
from planner.registry import resolve
from planner.run.task import PlanOptions, conversation


@pytest.mark.parametrize("paper_id", library_ids())
def test_prompts_render_for_every_paper_and_task(paper_id):
    paper = load_paper(paper_id)
    for task, n in (("author", 5), ("reviewer", 2)):
        conv = conversation(paper, resolve("gpt-4o"), PlanOptions(task=task))
        for mode in (OutputMode.JSON_SCHEMA, OutputMode.TOOL, OutputMode.TAGGED):
            conv.mode = mode
            request = conv.request()
            user = request.messages[0][1]
            assert paper.title in user and f"exactly {n} ablations" in user
            assert ("<predictions>" in request.system) == (mode is OutputMode.TAGGED)
            assert ("<reported_ablations>" in user) == (task == "reviewer")


def test_repair_and_judge_templates_render():
    text = render("repair", errors=["expected exactly 5 ablations, got 3"], count=5, structured="tagged")
    assert "expected exactly 5 ablations, got 3" in text and "<discussion>" in text
    judge = render("judge", paper_id="p", set_a=[{"name": "x"}], set_b=[{"name": "y"}], structured="json_schema")
    assert 'A1. {"name": "x"}' in judge and 'B1. {"name": "y"}' in judge


def test_override_folder_replaces_one_template(tmp_path: Path):
    (tmp_path / "author.j2").write_text("Custom for {{ paper.id }}: {{ count }}", encoding="utf-8")
    conv = conversation(load_paper("smm"), resolve("gpt-4o"), PlanOptions(prompts=tmp_path))
    request = conv.request()
    assert request.messages[0][1] == "Custom for smm: 5"
    assert "ablation study" in request.system  # system.j2 still comes from prompts/


def test_undefined_variable_and_missing_folder_are_usage_errors(tmp_path: Path):
    (tmp_path / "author.j2").write_text("{{ paper.nonexistent_field }}", encoding="utf-8")
    with pytest.raises(UsageError, match="undefined variable"):
        conversation(load_paper("smm"), resolve("gpt-4o"), PlanOptions(prompts=tmp_path)).request()
    with pytest.raises(UsageError, match="no such folder"):
        render("author", tmp_path / "absent")


@pytest.mark.parametrize("template", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "{{ paper.__class__.__init__.__globals__ }}",
])
def test_a_user_template_cannot_reach_python(tmp_path: Path, template, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "author.j2").write_text(template, encoding="utf-8")
    code = main(["run", "--paper", "simsiam", "--model", "gpt-4o", "--dry-run", "--prompts", str(tmp_path)])
    assert code == 2 and not (tmp_path / "PWNED").exists()
    err = capsys.readouterr().err
    assert "unsafe" in err or "undefined" in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("how", ["a linked template", "an include of a link", "a link to a folder outside"])
def test_a_prompts_folder_never_follows_a_link_out_of_it(tmp_path: Path, capsys, monkeypatch, how):
    secret = tmp_path / "id_rsa"
    secret.write_text("TOP-SECRET-KEY-MATERIAL", encoding="utf-8")
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    if how == "a linked template":
        (prompts / "system.j2").symlink_to(secret)
    elif how == "an include of a link":
        (prompts / "_rules.j2").symlink_to(secret)
        (prompts / "author.j2").write_text('Plan {{ paper.id }}. {% include "_rules.j2" %}', encoding="utf-8")
    else:
        (tmp_path / "shared").mkdir()
        (tmp_path / "shared" / "system.j2").write_text("TOP-SECRET-KEY-MATERIAL", encoding="utf-8")
        (prompts / "shared").symlink_to(tmp_path / "shared", target_is_directory=True)
        (prompts / "author.j2").write_text('{% include "shared/system.j2" %}', encoding="utf-8")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code = main(["run", "--paper", "simsiam", "--model", "gpt-4o", "--dry-run", "--prompts", str(prompts)])
    captured = capsys.readouterr()
    assert code == 2 and "TOP-SECRET" not in captured.out + captured.err
    assert captured.err.count("\n") == 1 and "points outside" in captured.err


@pytest.mark.parametrize("template", [
    "{% for i in range(3000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% set r = range(3000)|list %}{% for a in r %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "{{ 'x' * 50000000 }}",
    "{{ 'x'.ljust(50000000) }}",
    "{% set ns = namespace(s='x') %}{% for i in range(26) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "{{ ('x' * 1000)|replace('x', 'y' * 50000) }}",
])
def test_a_template_that_loops_or_grows_without_bound_stops_with_one_line(tmp_path: Path, capsys, template):
    import time

    (tmp_path / "author.j2").write_text(template, encoding="utf-8")
    started = time.monotonic()
    code = main(["run", "--paper", "simsiam", "--model", "gpt-4o", "--dry-run", "--prompts", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2 and time.monotonic() - started < 10
    assert captured.out == "" and captured.err.count("\n") == 1 and "limits" in captured.err


class _Opened:
    """Every path this process opens while `active`, whatever way it is opened (an audit hook)."""

    active = False
    paths: list[str] = []
    installed = False

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        if cls.active and event == "open" and args and isinstance(args[0], (str, bytes, Path)):
            cls.paths.append(str(args[0]))

    @classmethod
    def install(cls) -> None:
        if not cls.installed:
            sys.addaudithook(cls.hook)
            cls.installed = True


def _opened_during(argv: list[str]) -> list[str]:
    _Opened.install()
    _Opened.paths = []
    _Opened.active = True
    try:
        assert main(argv) == 0
    finally:
        _Opened.active = False
    return _Opened.paths


def test_the_author_prompt_path_never_opens_ground_truth_on_a_real_run(provider_env, tmp_path):
    provider_env.default = lambda request: Reply.json(plan_obj(5 if "exactly 5" in str(request.body) else 2))
    author = _opened_during(["run", "--paper", "simsiam", "--model", "gpt-4o", "--out", str(tmp_path / "a")])
    assert author and not any(str(GROUND_TRUTH_DIR) in p or "ground_truth" in p for p in author)
    # the same hook does see ground truth opened when the reviewer prompt shows the reported ablations
    from planner.papers import ground_truth

    ground_truth.load.cache_clear()
    reviewer = _opened_during(["run", "--paper", "simsiam", "--model", "gpt-4o", "--task", "reviewer",
                               "--out", str(tmp_path / "r")])
    assert any("ground_truth" in p and p.endswith("simsiam.json") for p in reviewer)
