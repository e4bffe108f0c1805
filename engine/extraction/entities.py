"""Entities without a model: capitalised runs, Vietnamese kinship-prefixed names, places.

Fixes the original's over-matching: capitalisation is tested case-sensitively (so "anh Tuấn
at Starbucks" yields "Tuấn" and "Starbucks", not one phrase), ordinary sentence starters
("What", "Decided", "Hey") are not entities, and month and weekday names belong to time.
"""

from __future__ import annotations

import re
from typing import Final

import msgspec

from ..model import NeuronType
from .tokens import STOP_WORDS, normalize


def _capitals() -> str:
    """The capital letters as a regex class: A-Z, and from À to Ỹ those `str.isupper` says are
    (the range alone also holds lowercase Vietnamese: "anh Tuấn ăn" is not a name "Tuấn ăn")."""
    spans: list[list[int]] = []
    for code in range(ord("À"), ord("Ỹ") + 1):
        if chr(code).isupper():
            if spans and spans[-1][1] == code - 1:
                spans[-1][1] = code
            else:
                spans.append([code, code])
    return "[A-Z" + "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in spans) + "]"


CAPITAL: Final = _capitals()
_CAP_WORD: Final = rf"(?:{CAPITAL}[\w'’-]*)"
# A capital not after a word character: tested after the capital (the lookbehind spans it), so
# the engine skips to capitals instead of trying the lookbehind at every position.
_RUN: Final = re.compile(rf"{CAPITAL}(?<![\w'’-].)[\w'’-]*(?:[ \t]+{_CAP_WORD})*")
_KINSHIP: Final = re.compile(
    rf"(?<!\w)(anh|chị|em|bạn|cô|chú|bác|ông|bà)\s+({CAPITAL}\w*(?:\s+{CAPITAL}\w*)*)"
)
# Whether `_KINSHIP` may match: without its lookbehind, the engine skips to the prefixes' letters.
_KINSHIP_HINT: Final = re.compile(rf"(?:anh|chị|em|bạn|cô|chú|bác|ông|bà)\s+{CAPITAL}")
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


class Entity(msgspec.Struct, frozen=True):
    text: str
    key: str
    type: NeuronType


_OPENERS: Final = frozenset('.!?:;\n"“(')


def _opens_sentence(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    if i < 0 or text[i] in _OPENERS:
        return True
    return text[i] in "-–—" and i > 0 and text[i - 1] == " "


def _word_before(text: str, start: int) -> str:
    end = start - 1
    while end >= 0 and text[end] in " \t":
        end -= 1
    begin = end
    while begin >= 0 and (text[begin].isalnum() or text[begin] in "'’"):
        begin -= 1
    return text[begin + 1 : end + 1].lower()


def extract_entities(text: str, known: frozenset[str] | set[str] | None = None) -> list[Entity]:
    """Named things in `text`, deduplicated by key, in order of first appearance.

    `known` holds entity keys the brain already has: a sentence-initial word that was seen
    capitalised mid-sentence before is trusted as a name even when it opens a sentence.
    """
    found: dict[str, Entity] = {}
    claimed: list[tuple[int, int]] = []  # spans of kinship-prefixed names
    if _KINSHIP_HINT.search(text):
        for m in _KINSHIP.finditer(text):
            words = m.group(2).split()
            _add(found, text, m.start(2), words, [normalize(w) for w in words])
            claimed.append(m.span(2))
    for m in _RUN.finditer(text):
        if claimed and any(s <= m.start() < e for s, e in claimed):
            continue
        _split_run(found, text, m.start(), m.group(), known)
    return list(found.values())


# (offset in the run, word, normal form, dropped wherever it is, dropped when it opens a
# sentence) of each word of a capitalised run: what does not depend on the run's context.
_RunWord = tuple[int, str, str, bool, bool]
_runs: dict[str, tuple[_RunWord, ...]] = {}
_RUN_CACHE_LIMIT: Final = 200_000


def _run_words(run: str) -> tuple[_RunWord, ...]:
    """The words of `run` (cached: names recur from one memory to the next)."""
    words = _runs.get(run)
    if words is None:
        out: list[_RunWord] = []
        pos = 0
        for word in run.split():
            at = run.index(word, pos)
            pos = at + len(word)
            norm = normalize(word)
            drop = norm in _TIME_NAMES or norm == "i" or (norm in STOP_WORDS and len(word) > 1)
            out.append((at, word, norm, drop, norm in _STARTERS or norm in STOP_WORDS))
        if len(_runs) >= _RUN_CACHE_LIMIT:
            _runs.clear()
        words = _runs[run] = tuple(out)
    return words


def _split_run(
    found: dict[str, Entity],
    text: str,
    start: int,
    run: str,
    known: frozenset[str] | set[str] | None,
) -> None:
    keep: list[str] = []
    norms: list[str] = []
    keep_start = start
    for i, (at, word, norm, dropped, opener) in enumerate(_run_words(run)):
        drop = dropped or (
            i == 0 and opener and _opens_sentence(text, start) and not (known and norm in known)
        )
        if drop:
            if keep:
                _add(found, text, keep_start, keep, norms)
                keep, norms = [], []
            continue
        if not keep:
            keep_start = start + at
        keep.append(word)
        norms.append(norm)
    if keep:
        _add(found, text, keep_start, keep, norms)


def normalize_name(phrase: str) -> str:
    """The key of a name: its words normalised, single-spaced."""
    return " ".join(normalize(w) for w in phrase.split())


def _add(
    found: dict[str, Entity], text: str, start: int, words: list[str], norms: list[str]
) -> None:
    """Add the name made of `words` (`norms` their normal forms: its key is `normalize_name`'s)."""
    key = " ".join(norms)
    if key in found:
        return
    phrase = " ".join(words)
    spatial = _word_before(text, start) in _PLACE_BEFORE and not (
        phrase.isupper() and len(phrase) <= 6  # "in AWS", "to API": acronyms are rarely places
    )
    found[key] = Entity(phrase, key, NeuronType.SPATIAL if spatial else NeuronType.ENTITY)
