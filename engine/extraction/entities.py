"""Entities without a model: capitalised runs, Vietnamese kinship-prefixed names, places.

Fixes the original's over-matching: capitalisation is tested case-sensitively (so "anh Tuấn
at Starbucks" yields "Tuấn" and "Starbucks", not one phrase), ordinary sentence starters
("What", "Decided", "Hey") are not entities, and month and weekday names belong to time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ..model import NeuronType
from .tokens import STOP_WORDS, normalize

_CAP_WORD: Final = r"(?:[A-ZÀ-ỸĐ][\w'’-]*)"
_RUN: Final = re.compile(rf"(?<![\w'’-]){_CAP_WORD}(?:[ \t]+{_CAP_WORD})*")
_SENTENCE_START: Final = re.compile(r"(?:^|[.!?:;\n\"“(]\s*|\s[-–—]\s)$")
_KINSHIP: Final = re.compile(
    r"(?<!\w)(anh|chị|em|bạn|cô|chú|bác|ông|bà)\s+((?:[A-ZÀ-ỸĐ][\w]*)(?:\s+[A-ZÀ-ỸĐ][\w]*)*)"
)
_PLACE_BEFORE: Final = frozenset(
    """at in from to near ở tại đến từ quán office building hotel restaurant city""".split()
)

_TIME_NAMES: Final = frozenset(
    """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday
    friday saturday sunday mon tue tues wed thu thur thurs fri sat sun today tomorrow
    yesterday tonight christmas easter""".split()
)

# Capitalised only because they open a sentence: a memory "Hey Mel!" is about Mel, not "Hey".
_STARTERS: Final = frozenset(
    """hey hi hello thanks thank wow yes yeah yep nope sure great awesome cool nice well okay
    ok oh ah haha lol sorry please congrats congratulations good bad amazing wonderful
    absolutely totally definitely exactly right true agreed also anyway btw so and but or
    then now today yesterday tomorrow decided completed finished started working met
    meeting went going got had did made took saw see let lets let's tell explain show find
    remember note todo fix implement add use using need needs maybe perhaps actually
    honestly hopefully luckily unfortunately sounds looks seems glad happy sad love like
    hope wish can could would should will just still really very that's it's there's
    here's what's i'm i've i'd i'll you're we're they're don't can't didn't isn't wasn't
    thats its theres whats im ive dont cant didnt isnt definitely always never sometimes
    usually often last next first second finally after before when while since because if
    though although once every each some many most all both""".split()
)


@dataclass(frozen=True, slots=True)
class Entity:
    text: str
    key: str
    type: NeuronType


def _entity(text: str, kind: NeuronType) -> Entity:
    return Entity(text=text, key=" ".join(normalize(w) for w in text.split()), type=kind)


def extract_entities(text: str, known: frozenset[str] | set[str] | None = None) -> list[Entity]:
    """Named things in `text`, deduplicated by key, in order of first appearance.

    `known` holds entity keys the brain already has: a sentence-initial word that was seen
    capitalised mid-sentence before is trusted as a name even when it opens a sentence.
    """
    found: dict[str, Entity] = {}
    claimed: list[tuple[int, int]] = []
    for m in _KINSHIP.finditer(text):
        ent = _entity(m.group(2), NeuronType.ENTITY)
        found.setdefault(ent.key, ent)
        claimed.append(m.span(2))
    for m in _RUN.finditer(text):
        if any(s <= m.start() < e for s, e in claimed):
            continue
        for ent in _split_run(text, m.start(), m.group(), known):
            found.setdefault(ent.key, ent)
    return list(found.values())


def _split_run(
    text: str, start: int, run: str, known: frozenset[str] | set[str] | None
) -> list[Entity]:
    parts = run.split()
    keep: list[str] = []
    out: list[Entity] = []
    at_start = _SENTENCE_START.search(text[max(0, start - 4) : start]) is not None or start == 0
    for i, word in enumerate(parts):
        norm = normalize(word)
        drop = norm in _TIME_NAMES or norm == "i" or (norm in STOP_WORDS and len(word) > 1)
        if i == 0 and at_start and not drop:
            drop = (norm in _STARTERS or norm in STOP_WORDS) and not (known and norm in known)
        if drop:
            if keep:
                out.append(_place_or_entity(text, start, keep))
                keep = []
            continue
        keep.append(word)
    if keep:
        out.append(_place_or_entity(text, start, keep))
    return out


def _place_or_entity(text: str, start: int, words: list[str]) -> Entity:
    phrase = " ".join(words)
    before = text[max(0, start - 16) : start].split()
    kind = (
        NeuronType.SPATIAL if before and before[-1].lower() in _PLACE_BEFORE else NeuronType.ENTITY
    )
    if phrase.isupper() and len(phrase) <= 6:
        kind = NeuronType.ENTITY  # "in AWS", "to API": acronyms are rarely places
    return _entity(phrase, kind)
