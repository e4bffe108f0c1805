"""Word-bounded rules for a memory's type and a query's intent.

The original matched substrings, so "Bob fixed the login bug" became a todo ("fix") and
"Why did the build fail?" a who-question (Vietnamese "ai" inside "fail"). Every rule here
matches whole words only.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from ..model import MemoryType


def _alternation(phrases: str) -> str:
    """A word-bounded alternation of "|"-separated phrases (spaces match any whitespace)."""
    words = (p.strip().replace(" ", r"\s+") for p in phrases.split("|") if p.strip())
    return rf"(?<![\w-])(?:{'|'.join(words)})(?![\w-])"


def _words(phrases: str) -> re.Pattern[str]:
    return re.compile(_alternation(phrases), re.IGNORECASE)


_IMPERATIVE = (
    r"(?:^|(?<=[.!?;:\n])\s*)(?:please\s+)?(?:fix|implement|add|write|update|remove|"
    r"investigate|check|refactor|create|set\s+up|migrate|document)(?![\w-])"
)

# In priority order: the first rule that matches anywhere in the text wins.
_TYPE_RULES: Final[tuple[tuple[MemoryType, str], ...]] = (
    (
        MemoryType.TODO,
        _alternation("todo|to-do|need to|needs to|have to|has to|must|should|cần|phải")
        + "|"
        + _IMPERATIVE,
    ),
    (
        MemoryType.DECISION,
        _alternation(
            "decided|decide|decision|chose|chosen|will use|going with|picked|selected|settled on|"
            "quyết định|chọn"
        ),
    ),
    (
        MemoryType.INSTRUCTION,
        _alternation("always use|never use|make sure|remember to|don't forget|do not"),
    ),
    (
        MemoryType.PREFERENCE,
        _alternation(
            "prefer|prefers|preferred|i like|we like|i love|favorite|favourite|hate|thích"
        ),
    ),
    (
        MemoryType.INSIGHT,
        _alternation("learned|learnt|realized|realised|discovered|found that|turns out|turned out"),
    ),
    (
        MemoryType.ERROR,
        _alternation(
            "error|errors|bug|bugs|issue|problem|fail|fails|failed|failure|crash|crashed|crashes|"
            "exception|traceback|lỗi"
        ),
    ),
    (
        MemoryType.WORKFLOW,
        _alternation("workflow|process|steps|step|flow|pipeline|deploy|deployment|quy trình"),
    ),
    (MemoryType.REFERENCE, r"https?://|" + _alternation("docs|documentation")),
)
_TYPE_RX: Final = re.compile(
    "|".join(f"(?P<r{i}>{rx})" for i, (_, rx) in enumerate(_TYPE_RULES)), re.IGNORECASE
)


def detect_memory_type(text: str) -> MemoryType:
    """The highest-priority rule matching anywhere wins (one scan); plain statements are facts."""
    best = len(_TYPE_RULES)
    for m in _TYPE_RX.finditer(text):
        rule = int(m.lastgroup[1:]) if m.lastgroup else best
        if rule < best:
            best = rule
            if rule == 0:
                break
    return _TYPE_RULES[best][0] if best < len(_TYPE_RULES) else MemoryType.FACT


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


_INTENT_RULES: Final[tuple[tuple[Intent, re.Pattern[str]], ...]] = (
    (
        Intent.WHEN,
        _words("when|what time|what date|which day|how long ago|bao giờ|khi nào|lúc nào"),
    ),
    (Intent.WHY, _words("why|reason|reasons|cause|caused|tại sao|vì sao")),
    (Intent.WHERE, _words("where|which place|ở đâu")),
    (Intent.WHO, _words("who|whom|whose|ai|người nào")),
    (Intent.FEELING, _words("feel|feels|felt|feeling|emotion|cảm thấy")),
    (Intent.PATTERN, _words("usually|typically|often|always|habit|pattern|thường|hay")),
    (Intent.COMPARE, _words("compare|difference|versus|vs|better|worse|so sánh")),
    (Intent.HOW, _words("how|như thế nào|làm sao")),
    (Intent.CONFIRM, _words("did i|did we|did you|was there|is it true|có phải")),
    (Intent.WHAT, _words("what|which|tell me about|gì")),
)


def detect_intent(query: str) -> Intent:
    """Rules are ordered from the most to the least specific question word."""
    for intent, pattern in _INTENT_RULES:
        if pattern.search(query):
            return intent
    return Intent.RECALL


# How far activation should spread for each intent: causes and feelings need chains of
# associations; a direct "what"/"when" is answered by the memory that matches.
INTENT_DEPTH: Final[dict[Intent, int]] = {
    Intent.WHY: 3,
    Intent.FEELING: 2,
    Intent.PATTERN: 2,
    Intent.HOW: 2,
    Intent.COMPARE: 2,
    Intent.WHAT: 1,
    Intent.WHO: 1,
    Intent.WHERE: 1,
    Intent.WHEN: 1,
    Intent.CONFIRM: 1,
    Intent.RECALL: 1,
}
