"""A user's own paper from disk: markdown or text, LaTeX (one file or a folder), or PDF.

Every way a file can be unusable (missing, not a regular file, too large, unreadable,
empty, binary, not UTF-8, a PDF pypdf cannot parse or without a text layer) ends in
a UsageError that names the file and the fix, and never quotes the file's content. A
LaTeX folder is read without following links that leave it.
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

from planner.errors import UsageError
from planner.inputs import read_user_file, resolves_inside
from planner.papers.paper import TEXT_SUFFIXES, Paper

_ID_UNSAFE = re.compile(r"[^\w.+-]+")
MAX_BYTES = 20_000_000  # no paper is this long; a larger "file" is a device or a mistake
log = logging.getLogger(__name__)


def paper_id_for(path: Path) -> str:
    """An id from the file or folder name: word characters of any script, '.', '+', '-'."""
    stem = path.resolve().name if path.is_dir() else path.stem
    return _ID_UNSAFE.sub("-", stem).strip("-.")[:120] or "paper"


def _read_bytes(path: Path, folder: Path | None = None) -> bytes:
    return read_user_file(path, "", MAX_BYTES, within=folder,
                          hint="give the paper as a .md, .txt, .tex or .pdf file or a LaTeX folder")


def _read_text(path: Path, folder: Path | None = None) -> str:
    data = _read_bytes(path, folder)
    if b"\x00" in data[:8192]:
        raise UsageError(f"{path}: looks binary, not text; give a .md, .txt, .tex or .pdf paper")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (bad byte at offset {exc.start}); convert it to UTF-8") from None
    if not text.strip():
        raise UsageError(f"{path}: the file is empty; give a file with the paper's text")
    return text


def _wrap(name: str, text: str) -> str:
    """Each LaTeX source is shown to the model under its own name, as the published planner did."""
    return f'<file name="{name}">\n{text.rstrip()}\n</file>\n'


def _read_latex_folder(folder: Path) -> str:
    sources = []
    for p in sorted(folder.rglob("*.tex")):
        if not resolves_inside(p, folder):
            log.warning("%s: skipped, a link that points outside %s", p, folder)
            continue
        if p.is_file():
            sources.append(p)
    if not sources:
        raise UsageError(f"{folder}: no .tex files in this folder; give a folder of LaTeX sources or a single file")
    return "\n".join(_wrap(p.relative_to(folder).as_posix(), _read_text(p, folder)) for p in sources)


def _opens_without_password(reader) -> bool:  # type: ignore[no-untyped-def]
    """Many publishers ship PDFs with only an owner password (no printing, no editing): their text opens
    with the empty user password."""
    from pypdf import PasswordType

    try:
        return reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except Exception:  # an encryption pypdf cannot undo (e.g. AES without a crypto library)
        return False


def _read_pdf(path: Path) -> str:
    data = _read_bytes(path)
    from io import BytesIO

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its parser warnings are not the user's business
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(BytesIO(data))
            if reader.is_encrypted and not _opens_without_password(reader):
                raise UsageError(f"{path}: the PDF is encrypted with a password; give an unencrypted PDF or its text")
            pages = [page.extract_text() or "" for page in reader.pages]
    except UsageError:
        raise
    except Exception:  # pypdf raises many kinds (PdfReadError, KeyError, struct and zlib errors, recursion)
        raise UsageError(f"{path}: not a PDF that can be read; give the paper as text or LaTeX") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise UsageError(f"{path}: the PDF has no text layer (scanned?); give the paper as text or LaTeX")
    return text


def read_paper_path(path: Path) -> Paper:
    if path.is_dir():
        text = _read_latex_folder(path)
    elif not path.exists():
        raise UsageError(f"{path}: no such file or folder; give a paper id from 'planner papers' or an existing path")
    elif path.suffix.lower() == ".pdf":
        text = _read_pdf(path)
    elif path.suffix.lower() == ".tex":
        text = _wrap(path.name, _read_text(path))
    elif path.suffix.lower() in TEXT_SUFFIXES:
        text = _read_text(path)
    else:
        raise UsageError(f"{path}: unsupported file type {path.suffix or '(none)'}; use .md, .txt, .tex, .pdf or a "
                         "LaTeX folder")
    return Paper(id=paper_id_for(path), title=path.stem, text=text, source=str(path), origin="file")
