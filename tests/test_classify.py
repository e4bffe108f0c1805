"""Memory types: examples, and the fast paths against their plain forms."""

from __future__ import annotations

import re

from helpers import texts_of
from hypothesis import given, settings

from engine.extraction import classify
from engine.extraction.classify import detect_memory_type
from engine.model import MemoryType


def test_types() -> None:
    assert detect_memory_type("Fix the login page. It is slow.") == MemoryType.TODO
    assert detect_memory_type("ok. please update the docs") == MemoryType.TODO
    assert detect_memory_type("First build the image, then push it.") == MemoryType.WORKFLOW
    assert detect_memory_type("Bob fixed the login bug") == MemoryType.ERROR
    assert detect_memory_type("The office is in Hanoi") == MemoryType.FACT


# The patterns as first written: `\w+` and a `^` alternation in front.
PLAIN_TOKEN = re.compile(r"\w+(?:['’-]\w+)*")
PLAIN_SENTENCE_VERB = re.compile(r"(?:^|[.!?;:\n])\s*(?:please\s+)?(\w+)")
WORDS = ["please", "fix", "first", "then", ".", "!", ";", ":", "\n", " ", "-", "'", "’", "x"]
TEXT = texts_of(WORDS, 14)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_fast_paths_find_what_the_plain_forms_find(text: str) -> None:
    low = text.lower()
    assert classify._TOKEN.findall(low) == PLAIN_TOKEN.findall(low)
    assert classify._sentence_verbs(low) == PLAIN_SENTENCE_VERB.findall(low)
