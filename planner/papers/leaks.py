"""The leak guard: does a paper's summary give away the ablations its plans are scored against?

A summary may describe the method a paper proposes, but not the experiments of its
ablation section. A sentence is flagged when it
- names a ground-truth variant: the words of one of an entry's replacements (or of a
  removed component together with a removal cue such as "without"), or
- states a result about a ground-truth component: a result cue ("improves", "hurts",
  "necessary", "best") in a sentence whose words match that entry's component.
Flags are candidates for a human: each is either rewritten or kept in the reviewed
review (tests/data/leak_review.json) with the reason it is a method fact the
paper states before its ablations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.utils import default_process

from planner.papers.ground_truth import Entry

RESULT_CUES = re.compile(
    r"\b(improv(?:es|ed|ement|ements)|hurts?|harms?|degrad\w*|outperform\w*|better than|worse than|"
    r"necessary|essential|crucial|critical (?:to|for)|is key|matters? (?:most|little)|no (?:gain|benefit|effect|"
    r"improvement)|does not help|helps|boost\w*|leads? to (?:higher|lower|better|worse))\b", re.IGNORECASE)
REMOVAL_CUES = re.compile(r"\b(without|w/o|removing|removed|ablat\w*|disabl\w*)\b", re.IGNORECASE)
_FILLER = re.compile(r"\b(the|a|an|of|in|on|for|to|and|or|with|by|as|is|are|its|each|this|that|from|at|be|"
                     r"use|using|used|model|method|paper|default|setting|component|only|one|two|all|per)\b")
ALTERNATIVE_CUES = re.compile(r"\b(variants?|alternatives?|instead of|versus|vs\.?|compared|counterparts?|optional)\b",
                              re.IGNORECASE)
VARIANT_COVERAGE = 0.75  # share of a replacement's content words a sentence must hold to name it
COMPONENT_COVERAGE = 0.75  # share of a component's content words the sentence must hold to be about it


@dataclass(frozen=True)
class Flag:
    paper: str
    sentence: str
    entry: str
    why: str


def sentences(summary: str) -> list[str]:
    """The summary's sentences: every bullet and line split at sentence ends; headings left out."""
    found = []
    for line in summary.splitlines():
        line = line.strip().lstrip("-*").strip()
        if not line or line.startswith("#"):
            continue
        found += [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(])", line) if len(s.strip()) > 12]
    return found


def _words(text: str) -> str:
    return " ".join(_FILLER.sub(" ", default_process(text)).split())


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ions", "ion", "ings", "ing", "ors", "or", "ers", "er", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _stems(text: str) -> list[str]:
    return [_stem(w) for w in _words(text).split() if re.search(r"[a-z]", w) and len(w) > 2]


def _coverage(phrase: str, sentence: set[str], least: int = 2) -> float:
    """The share of a phrase's content words (stemmed) that the sentence holds; 0 for a phrase too short."""
    stems = set(_stems(phrase))
    return sum(s in sentence for s in stems) / len(stems) if len(stems) >= least else 0.0


def _core(variant: str) -> str:
    """A replacement without its asides: '(ViT-Dense / ...)' and what follows a colon or comma."""
    return re.split(r"[,:;]", re.sub(r"\([^)]*\)", " ", variant), maxsplit=1)[0]


def check(paper: str, summary: str, truth: list[Entry]) -> list[Flag]:
    flags = []
    for sentence in sentences(summary):
        stems = set(_stems(sentence))
        for entry in truth:
            component = _coverage(entry.ablated_part, stems)
            about = component >= COMPONENT_COVERAGE
            variant = next((v for v in entry.replacement if entry.action != "REMOVE"
                            and _coverage(_core(v), stems) >= VARIANT_COVERAGE), None)
            if variant is not None:
                flags.append(Flag(paper, sentence, entry.name, f"names the variant {variant!r}"))
            elif about and RESULT_CUES.search(sentence):
                flags.append(Flag(paper, sentence, entry.name, f"states a result about {entry.ablated_part!r}"))
            elif about and entry.action == "REMOVE" and REMOVAL_CUES.search(sentence):
                flags.append(Flag(paper, sentence, entry.name, f"describes removing {entry.ablated_part!r}"))
            elif component >= 0.5 and ALTERNATIVE_CUES.search(sentence):
                flags.append(Flag(paper, sentence, entry.name, f"describes an alternative to {entry.ablated_part!r}"))
    return flags
