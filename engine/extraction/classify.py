"""Word-bounded rules for a memory's type and a query's intent.

The original matched substrings, so "Bob fixed the login bug" became a todo ("fix") and
"Why did the build fail?" a who-question (Vietnamese "ai" inside "fail"). Every rule here
matches whole words only.
"""

from __future__ import annotations

import re
from enum import StrEnum
from itertools import pairwise
from typing import Final

from ..model import MemoryType

# Each pattern leads with one character class, which the regex engine skips to: `\w+` or an
# alternation with `^` in front would be tried at every position of the text.
_TOKEN: Final = re.compile(r"\w\w*(?:['’-]\w+)*")
_OPENING_VERB: Final = re.compile(r"\s*(?:please\s+)?(\w+)")  # of the text's first sentence
_SENTENCE_VERB: Final = re.compile(r"[.!?;:\n]\s*(?:please\s+)?(\w+)")  # of the others


def _phrases(spec: str) -> frozenset[str]:
    return frozenset(p.strip() for p in spec.split("|") if p.strip())


def _cues(text: str) -> tuple[str, set[str]]:
    """The lowercased text and its words and word pairs: phrases match whole words only,
    so "address" never matches "add" and "fail" never matches Vietnamese "ai". Only pairs
    that open with the first word of some two-word phrase are built: no other can match."""
    low = text.lower().replace("’", "'")
    words = _TOKEN.findall(low)
    cues = set(words)
    cues.update([f"{a} {b}" for a, b in pairwise(words) if a in _PAIR_FIRSTS])
    return low, cues


_IMPERATIVES: Final = _phrases(
    "fix|implement|add|write|update|remove|investigate|check|refactor|create|migrate|document"
)

# In priority order: the first rule that matches anywhere in the text wins.
_TYPE_RULES: Final[tuple[tuple[MemoryType, frozenset[str]], ...]] = (
    (MemoryType.TODO, _phrases("todo|to-do|need to|needs to|have to|has to|must|should|cần|phải")),
    (MemoryType.DECISION, _phrases(
        "decided|decide|decision|chose|chosen|will use|going with|picked|selected|settled on|"
        "quyết định|chọn")),
    (MemoryType.INSTRUCTION, _phrases(
        "always use|never use|make sure|remember to|don't forget|do not")),
    (MemoryType.PREFERENCE, _phrases(
        "prefer|prefers|preferred|i like|we like|i love|favorite|favourite|hate|thích")),
    (MemoryType.INSIGHT, _phrases(
        "learned|learnt|realized|realised|discovered|found that|turns out|turned out|"
        "takeaway|takeaways")),
    (MemoryType.ERROR, _phrases(
        "error|errors|bug|bugs|issue|problem|fail|fails|failed|failure|crash|crashed|crashes|"
        "exception|traceback|outage|outages|incident|incidents|downtime|regression|broke|"
        "broken|timeout|timeouts|went down|was down|is down|lỗi|sự cố")),
    # "the data pipeline" or "deployed the fix" name things and deeds, not a procedure
    (MemoryType.WORKFLOW, _phrases(
        "workflow|workflows|procedure|runbook|process for|the process|steps|step by step|"
        "how to|quy trình")),
    (MemoryType.REFERENCE, _phrases("docs|documentation")),
)  # fmt: skip

# "Insight: ...", "TODO - ...": a label the writer gave says the type outright
TYPE_LABELS: Final = {
    "todo": MemoryType.TODO, "to-do": MemoryType.TODO, "task": MemoryType.TODO,
    "decision": MemoryType.DECISION, "decided": MemoryType.DECISION,
    "preference": MemoryType.PREFERENCE, "insight": MemoryType.INSIGHT,
    "lesson": MemoryType.INSIGHT, "learned": MemoryType.INSIGHT, "til": MemoryType.INSIGHT,
    "takeaway": MemoryType.INSIGHT,
    "fact": MemoryType.FACT, "note": MemoryType.FACT, "context": MemoryType.CONTEXT,
    "instruction": MemoryType.INSTRUCTION, "rule": MemoryType.INSTRUCTION,
    "error": MemoryType.ERROR, "bug": MemoryType.ERROR, "incident": MemoryType.ERROR,
    "workflow": MemoryType.WORKFLOW, "procedure": MemoryType.WORKFLOW,
    "runbook": MemoryType.WORKFLOW, "reference": MemoryType.REFERENCE, "ref": MemoryType.REFERENCE,
}  # fmt: skip
_LABEL: Final = re.compile(r"\s*\[?([A-Za-z-]+)\]?\s*[:\-–]\s")
_SEQUENCE: Final = re.compile(r"\bfirst\b.*\bthen\b", re.S)


def type_label(text: str) -> MemoryType | None:
    """The type a text is labelled with ("Insight: ...", "[TODO] - ..."), if any."""
    m = _LABEL.match(text)
    return TYPE_LABELS.get(m.group(1).lower()) if m else None


def _sentence_verbs(low: str) -> list[str]:
    """The first word of each sentence (after a "please")."""
    first = _OPENING_VERB.match(low)
    if first is None:
        return _SENTENCE_VERB.findall(low)
    return [first.group(1), *_SENTENCE_VERB.findall(low, first.end())]


def detect_memory_type(text: str) -> MemoryType:
    """A label wins ("Insight: ..."); else the highest-priority rule with a cue anywhere in the
    text; otherwise a fact.

    A todo is also a sentence that opens with an imperative ("Fix the login page"), a
    workflow one that goes "first ..., then ...".
    """
    labelled = type_label(text)
    if labelled is not None:
        return labelled
    if text.lstrip().startswith("TIL "):  # "today I learned"; lowercase "til" is "until"
        return MemoryType.INSIGHT
    low, cues = _cues(text)
    for kind, phrases in _TYPE_RULES:
        if kind is MemoryType.WORKFLOW and "first" in low and _SEQUENCE.search(low):
            return kind
        if not phrases.isdisjoint(cues):
            return kind
        if kind is MemoryType.TODO and not _IMPERATIVES.isdisjoint(_sentence_verbs(low)):
            return kind
        if kind is MemoryType.REFERENCE and ("http://" in low or "https://" in low):
            return kind
    return MemoryType.FACT


class Intent(StrEnum):
    WHAT = "what"
    WHERE = "where"
    WHEN = "when"
    WHO = "who"
    WHY = "why"
    HOW = "how"
    FEELING = "feeling"
    PATTERN = "pattern"
    CONFIRM = "confirm"
    COMPARE = "compare"
    RECALL = "recall"


_INTENT_RULES: Final[tuple[tuple[Intent, frozenset[str]], ...]] = (
    (Intent.WHEN, _phrases("when|what time|what date|which day|which year|what year|which month|"
                           "what month|how long ago|bao giờ|khi nào|lúc nào|năm nào")),
    (Intent.WHY, _phrases("why|reason|reasons|cause|caused|tại sao|vì sao")),
    (Intent.WHERE, _phrases("where|which place|ở đâu")),
    (Intent.WHO, _phrases("who|whom|whose|ai|người nào")),
    (Intent.FEELING, _phrases("feel|feels|felt|feeling|emotion|cảm thấy")),
    (Intent.PATTERN, _phrases("usually|typically|often|always|habit|pattern|thường|hay")),
    (Intent.COMPARE, _phrases("compare|difference|versus|vs|better|worse|so sánh")),
    (Intent.HOW, _phrases("how|làm sao")),
    (Intent.CONFIRM, _phrases("did i|did we|did you|was there|is it true|có phải")),
    (Intent.WHAT, _phrases("what|which|tell me|gì")),
)  # fmt: skip


# what a question asks for by type: "what are my open todos", "which decisions", "what broke"
_TYPE_INTENTS: Final[tuple[tuple[MemoryType, frozenset[str]], ...]] = (
    (MemoryType.TODO, _phrases("todo|todos|to-do|to-dos|tasks|task list|action items|"
                               "open items|still have|still need|left to|next steps|cần làm")),
    (MemoryType.DECISION, _phrases("decisions|we decide|i decide|was decided|we decided|"
                                   "quyết định")),
    (MemoryType.ERROR, _phrases("errors|bugs|incidents|outages|failures|crashes|broke|"
                                "went wrong|go wrong|goes wrong|failed|went down|problems|"
                                "issues|lỗi|sự cố")),
    (MemoryType.PREFERENCE, _phrases("preferences")),
    (MemoryType.INSIGHT, _phrases("insights|lessons|learnings|lessons learned|we learn|"
                                  "we learned|i learned")),
    (MemoryType.INSTRUCTION, _phrases("instructions|rules|guidelines")),
    (MemoryType.WORKFLOW, _phrases("workflows|procedures|runbooks|runbook")),
)  # fmt: skip


# First words of the two-word phrases of every table: the only word pairs worth a cue.
_PAIR_FIRSTS: Final = frozenset(
    phrase.split()[0]
    for table in (_TYPE_RULES, _TYPE_INTENTS, _INTENT_RULES)
    for _, phrases in table
    for phrase in phrases
    if len(phrase.split()) == 2
)


def detect_type_intent(query: str) -> tuple[MemoryType, str] | None:
    """The memory type a question asks for, and the words that said so, if any."""
    low, cues = _cues(query)
    for kind, phrases in _TYPE_INTENTS:
        said = phrases & cues
        if said:
            return kind, min(said, key=low.find)
    return None


def detect_intent(query: str) -> Intent:
    """Rules are ordered from the most to the least specific question word."""
    _, cues = _cues(query)
    for intent, phrases in _INTENT_RULES:
        if not phrases.isdisjoint(cues):
            return intent
    return Intent.RECALL


# How far activation should spread for each intent: causes and feelings need chains of
# associations; a direct "what"/"when" is answered by the memory that matches.
INTENT_DEPTH: Final[dict[Intent, int]] = {
    Intent.WHY: 3,
    Intent.FEELING: 2,
    Intent.PATTERN: 2,
    Intent.HOW: 1,
    Intent.COMPARE: 2,
    Intent.WHAT: 1,
    Intent.WHO: 1,
    Intent.WHERE: 1,
    Intent.WHEN: 1,
    Intent.CONFIRM: 1,
    Intent.RECALL: 1,
}
