"""The offline judge's vocabulary: words reduced to comparable terms, and how much each term says.

- Terms: casefolded words, British spellings folded into American ones, Snowball stems,
  and a short list of ablation synonyms mapped onto one term ("summation" and
  "addition", "two-stage" and "decoupled"). Words that only say *that* something is
  ablated ("ablation", "effect", "study") and removal words ("w/o", "remove") are no
  terms of a component.
- Aliases: abbreviations a text defines ("adaptive tuning (A_T)", "GaLore (Gradient
  Low-Rank Projection)"), found with Schwartz and Hearst's algorithm (2003) in the
  paper's summary and in the items themselves; an abbreviation's term then stands for
  the terms of its long form.
- Weights: inverse document frequency over the library's own text, every line of every
  summary and every ground-truth entry being a document, so words every method has
  ("module", "loss", "activation") weigh little and a paper's own terms weigh much.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import snowballstemmer

from planner.core.schema import Ablation
from planner.papers import ground_truth
from planner.papers.library import (
    PAPERS_DIR,
    library_id,
    library_ids,
    parse_library_file,
)

_STEM = snowballstemmer.stemmer("english")
_WORD = re.compile(r"[^\W_]+(?:_[^\W_]+)*")  # letters and digits, with A_T-style subscripts kept whole
_SUBSCRIPT = 5  # a word joined by "_" is one symbol (A_T, L_reg) up to this length, else its parts (layer_norm)
_NORM = re.compile(r"(?<=[a-z])(?=Norm\b)")  # BatchNorm, LayerNorm: two words
_BRITISH = re.compile(r"is(ation|ations|e|ed|es|er|ers|ing)\b")
_PREFIX = re.compile(r"\b(pre|post|re|non|un|co|multi|sub|semi|self|de)-(?=\w)")
# multi-word phrases with one meaning in ablation plans, rewritten before the words are split
_PHRASES = [(re.compile(p), r) for p, r in (
    (r"\bw/o\b", " without "), (r"\bw/\b", " with "),
    (r"\bend[- ]to[- ]end\b", " joint "), (r"\btwo[- ]stages?\b", " decoupled "),
    (r"\bstage[- ]wise\b", " decoupled "), (r"\belement[- ]wise\b", " "),
    (r"\bhyper[- ]parameters?\b", " hyperparameter "), (r"\bfine[- ]tun", " finetun"),
)]
# synonyms of ablation vocabulary: groups of words (before stemming) that stand for one term
_SYNONYM_GROUPS = {
    "sum": "sum summation summations summing summed addition",
    "joint": "joint jointly simultaneous simultaneously",
    "decoupled": "decoupled separate separately sequential sequentially",
    "fixed": "fixed static constant frozen",
    "product": "product multiplication multiplicative",
    "concat": "concat concatenation concatenate concatenated concatenating",
    "without": "without remove removed removes removing removal eliminate eliminated disable disabled",
    "weight": "weight weights weighting coefficient coefficients",
    "count": "number count num",
    "dim": "dimension dimensions dimensionality dim",
    "initialization": "initialization init initialize initialized",
    "norm": "norm normalization normalizing normalized normalize",
    "encoder": "encoder enc",
    "decoder": "decoder dec",
}
SYNONYMS = {w: group for group, ws in _SYNONYM_GROUPS.items() for w in ws.split()}
# abbreviations every ML paper uses without defining them
COMMON_ALIASES = {"mse": "mean squared error", "mae": "mean absolute error", "bn": "batch norm", "ln": "layer norm",
                  "ce": "cross entropy", "kl": "kullback leibler", "pe": "positional encoding", "lr": "learning rate",
                  "wd": "weight decay", "ema": "exponential moving average", "mlp": "multilayer perceptron",
                  "ffn": "feed forward network", "attn": "attention"}


def _fold(text: str) -> str:
    text = _NORM.sub(" ", text).casefold()
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    return _PREFIX.sub(r"\1", _BRITISH.sub(r"iz\1", text))


@cache
def term(word: str) -> str:
    """One word as a term: its Snowball stem, or the representative of its synonyms."""
    return _STEM.stemWord(SYNONYMS.get(word, word))


# words that say that something is ablated or studied, not what: never terms of a component
_STOP_WORDS = """a an the of in on for to and or with by as at from into via vs versus its their
this that these those is are be being using use used based instead only than then per each all any other
ablation ablations ablate ablating ablated effect effects impact role study studies analysis analyse analyze
comparison compare compared contribution importance influence investigate investigation test testing
different alternative alternatives various variant variants varying vary varied change changing
no none
method approach proposed our model"""
STOP = frozenset(term(w) for w in _STOP_WORDS.split())
_REMOVAL = term("without")
_COMMON = {short: tuple(term(w) for w in long.split()) for short, long in COMMON_ALIASES.items()}


def words(text: str) -> list[str]:
    """The words of a text after folding, long underscore-joined names split into their parts."""
    found = _WORD.findall(_fold(text))
    return [part for w in found for part in ([w] if len(w) <= _SUBSCRIPT else w.split("_"))]


def terms(text: str, aliases: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """The content terms of a text, in order; an abbreviation stands for its long form's terms."""
    out: list[str] = []
    for word in words(text):
        expansion = (aliases or {}).get(word) or _COMMON.get(word)
        for t in expansion if expansion else (term(word),):
            if t not in STOP and t != _REMOVAL:
                out.append(t)
    return out


_FUNCTION_WORDS = frozenset(("a", "an", "and", "the", "of", "for", "to", "in", "on", "with", "by", "or"))


def _starts_content_word(text: str, i: int) -> bool:
    """Whether a word starts at `i` and is not a function word ("and efficient tuning" is no long form)."""
    if i > 0 and text[i - 1].isalnum():
        return False
    return text[i:].split(maxsplit=1)[0].casefold() not in _FUNCTION_WORDS


def _long_form(short: str, before: str) -> str | None:
    """Schwartz and Hearst's match: the shortest tail of `before` whose letters spell `short` in order,
    the short form's first letter starting a content word."""
    s, i = len(short) - 1, len(before) - 1
    while s >= 0:
        c = short[s].casefold()
        if not c.isalnum():
            s -= 1
            continue
        while i >= 0 and (before[i].casefold() != c or (s == 0 and not _starts_content_word(before, i))):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    start = before.rfind(" ", 0, i + 1) + 1
    return before[start:]


_PAREN = re.compile(r"([^()\n]{1,120})\(([^()\n]{1,60})\)")


def _abbreviation(text: str) -> bool:
    """Whether a word looks like a short form: 2 to 10 characters, a capital after the first or a subscript."""
    return 2 <= len(text) <= 10 and " " not in text and (any(c.isupper() for c in text[1:]) or "_" in text)


def find_aliases(text: str) -> dict[str, tuple[str, ...]]:
    """Abbreviations the text defines, as `long form (SF)` or `SF (long form)`: word -> terms of the long form."""
    found: dict[str, tuple[str, ...]] = {}
    for match in _PAREN.finditer(text):
        before, inside = match.group(1).split(), match.group(2).strip()
        short = inside.split(",")[0].strip()
        if _abbreviation(short):  # long form (SF): the long form ends just before the parenthesis
            pairs = [(short, " ".join(before[-min(len(short) + 5, 2 * len(short)):]))]
        elif before and _abbreviation(before[-1]) and not re.search(r"[,;=]", inside):  # SF (long form)
            pairs = [(before[-1], inside)]
        else:
            continue
        for sf, window in pairs:
            long = _long_form(sf, window)
            keys = words(sf)
            if long and len(keys) == 1 and 1 < len(long.split()) <= min(len(sf) + 5, 2 * len(sf)):
                expansion = tuple(t for t in (term(w) for w in words(long)) if t not in STOP)
                if expansion and keys[0] not in found:
                    found[keys[0]] = expansion
    return found


@dataclass
class Weights:
    """Inverse document frequency of terms over a set of documents (smoothed; unseen terms weigh most)."""

    df: Counter = field(default_factory=Counter)
    documents: int = 0

    @classmethod
    def of(cls, documents: Iterable[str]) -> Weights:
        df: Counter = Counter()
        n = 0
        for doc in documents:
            df.update(set(terms(doc)))
            n += 1
        return cls(df, n)

    def __call__(self, t: str) -> float:
        return math.log((self.documents + 1) / (self.df.get(t, 0) + 1)) + 1.0


def item_text(ab: Ablation) -> str:
    """All the words of an ablation that say what it does (its metrics do not)."""
    return " ".join([ab.name, ab.ablated_part, *ab.replacement])


@cache
def library_weights() -> Weights:
    """IDF over the library: each line of each paper summary and each ground-truth entry is a document."""
    docs: list[str] = []
    for paper in library_ids():
        docs += [line for line in parse_library_file(PAPERS_DIR / f"{paper}.md").text.splitlines() if line.strip()]
        truth = ground_truth.load(paper)
        docs += [item_text(e) for e in (truth.ablations if truth else [])]
    return Weights.of(docs)


@cache
def _summary(paper: str) -> str:
    found = library_id(paper)
    return parse_library_file(PAPERS_DIR / f"{found}.md").text if found else ""


@cache
def paper_aliases(paper: str) -> dict[str, tuple[str, ...]]:
    """The abbreviations a library paper's summary defines (none for a paper outside the library)."""
    return find_aliases(_summary(paper))
