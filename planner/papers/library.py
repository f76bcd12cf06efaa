"""Papers: the library under `papers/`, and a user's own paper given as a path.

The library files hold only what an author has before writing the ablation section.
The ground truth (the ablations each paper reports) lives in `papers/ground_truth/`,
which the author prompt never reads (planner.papers.ground_truth).

A paper's id names its output files, so two inputs must never share one: a user's
file whose name matches a library id or another input gets a content-hash suffix
(`resolve_all`), and a user's paper is never scored against a library paper's ground
truth.
"""

from __future__ import annotations

import difflib
import logging
import re
import tomllib
from dataclasses import replace
from pathlib import Path

from planner.errors import UsageError
from planner.papers.files import read_paper_path
from planner.papers.paper import TEXT_SUFFIXES, Paper

ROOT = Path(__file__).resolve().parents[2]
PAPERS_DIR = ROOT / "papers"
GROUND_TRUTH_DIR = PAPERS_DIR / "ground_truth"
_FRONT = re.compile(r"\A\+\+\+\n(.*?)\n\+\+\+\n", re.DOTALL)
log = logging.getLogger(__name__)


def library_ids(papers_dir: Path = PAPERS_DIR) -> list[str]:
    return sorted((p.stem for p in papers_dir.glob("*.md")), key=str.casefold)


def parse_library_file(path: Path) -> Paper:
    """A library paper: TOML front matter between `+++` lines, then the markdown summary."""
    text = path.read_text(encoding="utf-8")
    match = _FRONT.match(text)
    if not match:
        raise UsageError(f"{path}: missing the '+++' TOML front matter that every library paper starts with")
    try:
        meta = tomllib.loads(match.group(1))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: bad front matter ({exc})") from None
    body = text[match.end():].strip()
    if meta.get("id") != path.stem:
        raise UsageError(f"{path}: front matter id {meta.get('id')!r} differs from the file name")
    return Paper(
        id=path.stem, title=meta["title"], text=f"# {meta['title']}\n\n{body}\n",
        authors=list(meta.get("authors", [])), year=meta.get("year"), venue=meta.get("venue", ""),
        arxiv=meta.get("arxiv", ""), unchecked=list(meta.get("unchecked", [])), source=str(path),
    )


def library_id(ref: str, papers_dir: Path = PAPERS_DIR) -> str | None:
    """The library id `ref` names (exactly, else case-insensitively), if any."""
    ids = library_ids(papers_dir)
    exact = [i for i in ids if i == ref] or [i for i in ids if i.casefold() == ref.casefold()]
    return exact[0] if exact else None


def _looks_like_path(ref: str) -> bool:
    return "/" in ref or "\\" in ref or Path(ref).suffix.lower() in TEXT_SUFFIXES | {".tex", ".pdf"}


def load_paper(ref: str, papers_dir: Path = PAPERS_DIR) -> Paper:
    """A library id (case-insensitive) or a path; anything else is a usage error with suggestions."""
    found = library_id(ref, papers_dir)
    if found:
        return parse_library_file(papers_dir / f"{found}.md")
    if Path(ref).exists() or _looks_like_path(ref):
        return read_paper_path(Path(ref))
    ids = library_ids(papers_dir)
    close = difflib.get_close_matches(ref, ids, n=3, cutoff=0.5) or [
        i for i in ids if ref.casefold() in i.casefold()
    ][:3]
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise UsageError(f"unknown paper {ref!r}; {hint}run 'planner papers' for the {len(ids)} known ids, "
                     "or give a path to a .md, .txt, .tex or .pdf file or a LaTeX folder")


def resolve_all(refs: list[str], papers_dir: Path = PAPERS_DIR) -> list[Paper]:
    """Load every paper once, dropping repeats of the same paper and giving clashing ids a distinct suffix.

    `simsiam` and `SIMSIAM` are one paper; two different files that would both be
    called `paper` (or `a b.md` and `a-b.md`, or a file called `simsiam.md`) are not:
    every user file whose id is already taken gets `-<8 hex of its content>` appended.
    """
    library = {i.casefold() for i in library_ids(papers_dir)}
    papers: list[Paper] = []
    taken: dict[str, str] = {}  # casefolded id -> content hash of the paper holding it
    for ref in refs:
        paper = load_paper(ref, papers_dir)
        key = paper.id.casefold()
        if taken.get(key) == paper.sha:
            continue  # the same paper named twice
        if paper.origin != "library" and (key in library or key in taken):
            new_id = f"{paper.id}-{paper.sha[:8]}"
            log.warning("paper %s would be called %r, which is already taken; it is called %r instead",
                        paper.source, paper.id, new_id)
            paper = replace(paper, id=new_id)
            key = new_id.casefold()
            if taken.get(key) == paper.sha:
                continue
        taken[key] = paper.sha
        papers.append(paper)
    return papers
