"""Entities without a model: examples, and the fast paths against their plain forms."""

from __future__ import annotations

import re

from helpers import texts_of
from hypothesis import given, settings

from engine.extraction import entities
from engine.extraction.entities import extract_entities
from engine.model import NeuronType


def found(text: str) -> list[tuple[str, str, NeuronType]]:
    return [(e.text, e.key, e.type) for e in extract_entities(text)]


def test_names_places_and_sentence_starters() -> None:
    assert found("Hey Mel! Caroline went to Paris in May.") == [
        ("Mel", "mel", NeuronType.ENTITY),
        ("Caroline", "caroline", NeuronType.ENTITY),
        ("Paris", "paris", NeuronType.SPATIAL),
    ]
    assert found("What did Alice say? Met Bob at Google HQ.") == [
        ("Alice", "alice", NeuronType.ENTITY),
        ("Bob", "bob", NeuronType.ENTITY),
        ("Google HQ", "google hq", NeuronType.SPATIAL),
    ]
    assert found("deployed to AWS with the API Gateway team") == [
        ("AWS", "aws", NeuronType.ENTITY),
        ("API Gateway", "api gateway", NeuronType.ENTITY),
    ]


def test_kinship_prefixed_vietnamese_name() -> None:
    assert found("hẹn gặp chị Lan Anh chiều nay") == [("Lan Anh", "lan anh", NeuronType.ENTITY)]


def test_lowercase_vietnamese_letters_are_not_capitals() -> None:
    # "ă", "đ", "ơ" lie between "À" and "Ỹ": a name must not run on into "ăn" or "đi"
    assert found("anh Tuấn ăn cơm với chị Lan") == [
        ("Tuấn", "tuấn", NeuronType.ENTITY),
        ("Lan", "lan", NeuronType.ENTITY),
    ]
    assert found("đi über Đà Lạt") == [("Đà Lạt", "đà lạt", NeuronType.ENTITY)]


def test_names_after_a_kinship_name_are_kept() -> None:
    assert found("gặp anh Tuấn rồi đi Hà Nội với Minh ở Starbucks") == [
        ("Tuấn", "tuấn", NeuronType.ENTITY),
        ("Hà Nội", "hà nội", NeuronType.ENTITY),
        ("Minh", "minh", NeuronType.ENTITY),
        ("Starbucks", "starbucks", NeuronType.SPATIAL),
    ]


# The patterns as first written, with the left boundary as a leading lookbehind.
PLAIN_RUN = re.compile(rf"(?<![\w'’-]){entities._CAP_WORD}(?:[ \t]+{entities._CAP_WORD})*")
PLAIN_KINSHIP_HINT = re.compile(
    rf"(?<!\w)(?:anh|chị|em|bạn|cô|chú|bác|ông|bà)\s+{entities.CAPITAL}"
)
WORDS = ["Alice", "Bob", "anh", "em", "Tuấn", "ăn", "Đà", "May", "The", "I", "at", "-", "'", "’",
         "x", "HQ"]  # fmt: skip
TEXT = texts_of(WORDS, 12, (" ", ""))


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_fast_paths_find_what_the_plain_forms_find(text: str) -> None:
    assert [m.span() for m in entities._RUN.finditer(text)] == [
        m.span() for m in PLAIN_RUN.finditer(text)
    ]
    assert entities._KINSHIP_HINT.search(text) or not PLAIN_KINSHIP_HINT.search(text)
    warm = found(text)  # the runs' words are now cached
    entities._runs.clear()
    assert found(text) == warm
    assert all(e.key == entities.normalize_name(e.text) for e in extract_entities(text))
    assert all(e.text[0].isupper() for e in extract_entities(text))
