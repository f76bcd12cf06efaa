"""The paper library, its ground truth, and papers given as paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.cli.main import main
from planner.errors import UsageError
from planner.papers.ground_truth import reported_ablations
from planner.papers.library import (
    GROUND_TRUTH_DIR,
    PAPERS_DIR,
    library_ids,
    load_paper,
    resolve_all,
)
from planner.papers.paper import Paper, fit_to_budget

IDS = library_ids()
SEED_PAPERS = {"simsiam", "backgroundmattingv2", "smm", "dad-3dheads"}
AUTHOR_LIST = (PAPERS_DIR.parent.parent / "shared" / "ablationbench-author-papers.md")


def test_library_size_and_seed_papers():
    assert len(IDS) >= 24 and SEED_PAPERS <= set(IDS)
    with_truth = [i for i in IDS if reported_ablations(i)]
    assert len(with_truth) >= 24


@pytest.mark.parametrize("paper_id", IDS)
def test_every_paper_loads_with_its_facts(paper_id):
    p = load_paper(paper_id)
    assert p.id == paper_id and p.title and p.authors and p.year and p.venue
    for section in ("## Abstract", "## Method", "## Hyperparameters", "## Datasets", "## Baselines", "## Metrics"):
        assert section in p.text, f"{paper_id} lacks {section}"
    assert isinstance(p.unchecked, list)
    assert (GROUND_TRUTH_DIR / f"{paper_id}.json").is_file()


def test_ids_match_the_ablationbench_list():
    if not AUTHOR_LIST.is_file():
        pytest.skip("shared/ablationbench-author-papers.md is not beside the checkout")
    listed = {line.split("|")[1].strip() for line in AUTHOR_LIST.read_text(encoding="utf-8").splitlines()
              if line.startswith("| ") and not line.startswith("| id")}
    assert set(IDS) <= listed


def test_ids_resolve_case_insensitively_and_typos_suggest():
    assert load_paper("SIMSIAM").id == "simsiam"
    with pytest.raises(UsageError, match="did you mean simsiam"):
        load_paper("simsam")


def test_user_paper_files(tmp_path: Path):
    md = tmp_path / "my paper.md"
    md.write_text("# My method\n\nWe add a gate.", encoding="utf-8")
    assert load_paper(str(md)).id == "my-paper" and "We add a gate." in load_paper(str(md)).text
    tex = tmp_path / "src"
    (tex / "sec").mkdir(parents=True)
    (tex / "main.tex").write_text("\\section{Intro} main", encoding="utf-8")
    (tex / "sec" / "method.tex").write_text("\\section{Method} gate", encoding="utf-8")
    (tex / "notes.bib").write_text("@misc{x}", encoding="utf-8")
    text = load_paper(str(tex)).text
    assert '<file name="main.tex">' in text and '<file name="sec/method.tex">' in text and "@misc" not in text
    single = load_paper(str(tex / "main.tex")).text
    assert single.startswith('<file name="main.tex">')


def _pdf(path: Path, text: str | None, password: str | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pypdf import PdfReader, PdfWriter

    fig = plt.figure()
    if text:
        fig.text(0.1, 0.5, text)
    fig.savefig(path, format="pdf")
    plt.close(fig)
    if password:
        writer = PdfWriter(clone_from=PdfReader(path))
        writer.encrypt(password)
        writer.write(path)
    return path


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128"])
def test_a_pdf_with_only_an_owner_password_is_read(tmp_path: Path, capsys, monkeypatch, algorithm):
    """Publishers lock printing and editing with an owner password; the text opens with the empty one."""
    from pypdf import PdfReader, PdfWriter

    path = _pdf(tmp_path / "published.pdf", "Contrastive gating network")
    writer = PdfWriter(clone_from=PdfReader(path))
    writer.encrypt(user_password="", owner_password="publisher-only", algorithm=algorithm)
    writer.write(path)
    assert PdfReader(path).is_encrypted
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["run", "--paper", str(path), "--model", "gpt-4o", "--dry-run"]) == 0
    assert "Contrastive gating network" in capsys.readouterr().out


def test_pdf_text_is_extracted(tmp_path: Path):
    paper = load_paper(str(_pdf(tmp_path / "paper.pdf", "Contrastive gating network")))
    assert "Contrastive gating network" in paper.text and paper.id == "paper"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing.md", "no such file"),
        (lambda d: (d / "empty.txt").write_text("  \n") and d / "empty.txt", "the file is empty"),
        (lambda d: (d / "bin.md").write_bytes(b"\x00\x01\x02abc") and d / "bin.md", "looks binary"),
        (lambda d: (d / "latin.txt").write_bytes("caf\xe9".encode("latin-1")) and d / "latin.txt", "not UTF-8"),
        (lambda d: (d / "dir.md").mkdir() or d / "dir.md", "no .tex files"),
        (lambda d: (d / "paper.docx").write_text("x") and d / "paper.docx", "unsupported file type"),
        (lambda d: (d / "bad.pdf").write_bytes(b"%PDF-1.4 garbage") and d / "bad.pdf", "not a PDF that can be read"),
        (lambda d: _pdf(d / "scan.pdf", None), "no text layer"),
        (lambda d: _pdf(d / "locked.pdf", "secret", password="pw"), "encrypted"),
    ],
)
def test_bad_paper_inputs_get_clear_errors(tmp_path: Path, make, message):
    path = make(tmp_path)
    with pytest.raises(UsageError) as err:
        load_paper(str(path))
    assert message in str(err.value) and str(path.name) in str(err.value) and "\n" not in str(err.value)


def test_long_text_is_cut_deterministically_with_a_marker(caplog):
    paper = Paper(id="long", title="t", text="word " * 10_000)
    cut = fit_to_budget(paper, 1_000)
    assert cut.text == fit_to_budget(paper, 1_000).text
    assert len(cut.text) < 1_200 and "[... truncated by planner: " in cut.text
    assert "longer than the model's context budget" in caplog.text
    assert fit_to_budget(paper, 100_000) is paper


def test_pypdf_cannot_parse_it_and_says_nothing_itself(tmp_path: Path, capsys, monkeypatch):
    broken = tmp_path / "broken.pdf"
    good = _pdf(tmp_path / "good.pdf", "Gating network").read_bytes()
    broken.write_bytes(good[: len(good) // 2] + b"\x00garbage trailer")  # a truncated PDF: pypdf warns and fails
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["run", "--paper", str(broken), "--model", "gpt-4o", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a PDF that can be read" in err


def test_clashing_inputs_become_distinct_papers(tmp_path: Path, caplog):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "paper.md").write_text("# One\n\nfirst method", encoding="utf-8")
    (tmp_path / "b" / "paper.md").write_text("# Two\n\nsecond method", encoding="utf-8")
    (tmp_path / "a b.md").write_text("# Spaced\n\nspaced", encoding="utf-8")
    (tmp_path / "a-b.md").write_text("# Dashed\n\ndashed", encoding="utf-8")
    (tmp_path / "simsiam.md").write_text("# My own SimSiam notes", encoding="utf-8")
    refs = ["simsiam", "SIMSIAM", str(tmp_path / "a/paper.md"), str(tmp_path / "b/paper.md"),
            str(tmp_path / "a/paper.md"), str(tmp_path / "a b.md"), str(tmp_path / "a-b.md"),
            str(tmp_path / "simsiam.md")]
    papers = resolve_all(refs)
    ids = [p.id for p in papers]
    assert len(ids) == len(set(ids)) == 6
    assert ids[0] == "simsiam" and papers[0].origin == "library"
    assert ids[1] == "paper" and ids[2].startswith("paper-") and ids[3] == "a-b" and ids[4].startswith("a-b-")
    assert ids[5].startswith("simsiam-") and papers[5].origin == "file"  # never scored as the library's SimSiam
    assert sum("already taken" in r.getMessage() for r in caplog.records) == 3


@pytest.mark.parametrize("listing", ["/dev/zero", "dir", "huge"])
def test_a_papers_file_that_is_not_a_list_is_refused_quickly(tmp_path: Path, capsys, listing):
    path = Path(listing)
    if listing == "dir":
        path = tmp_path
    elif listing == "huge":
        path = tmp_path / "huge.txt"
        path.write_text("simsiam\n" * 200_000, encoding="utf-8")
    assert main(["batch", "--papers-file", str(path), "--models", "gpt-4o", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--papers-file" in err


def test_ids_of_user_files_keep_their_letters(tmp_path: Path):
    (tmp_path / "Ségmentation numérique (v2).md").write_text("text", encoding="utf-8")
    assert load_paper(str(tmp_path / "Ségmentation numérique (v2).md")).id == "Ségmentation-numérique-v2"
