"""What the original NeuralMemory's agents send that we answer differently: the arguments of
its tools that we do not serve (each refused with the reason, never silently ignored), and
its two arguments on every tool, `compact` and `token_budget`, which shape any answer."""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

_NO_TIERS = (
    "there are no hot/warm/cold tiers here; priority ranks memories and nmem_pin keeps one "
    "from decaying or expiring"
)
_NO_TRUST = "memories carry no trust score here"
_NO_SOURCES = "there is no source registry here; say the source in the text or in tags"
_NO_DOMAINS = "there are no boundary memories or domains here; use tags"
_NO_VALIDITY = (
    "memories have no validity window here: event_at says when something happened, "
    "expires_days (or valid_until) when it stops counting"
)

# tool -> {argument of the original: why it is not served}
NOT_SERVED: dict[str, dict[str, str]] = {
    "nmem_remember": {
        "tier": _NO_TIERS,
        "domain": _NO_DOMAINS,
        "encrypted": "memories are not encrypted here; secrets are refused instead",
        "valid_from": _NO_VALIDITY,
        "trust_score": _NO_TRUST,
        "source_id": _NO_SOURCES,
    },
    "nmem_recall": {
        "valid_at": "memories have no validity window here; as_of (or at) answers as the "
        "brain stood at a moment",
        "include_conflicts": "contradictions are not detected here",
        "brains": "one server serves one brain; start one per brain (nmem mcp --brain NAME)",
        "min_trust": _NO_TRUST,
        "tier": _NO_TIERS,
        "domain": _NO_DOMAINS,
        "simhash_threshold": "there is no SimHash pre-filter here; tags, types and "
        "min_confidence narrow a recall",
        "min_arousal": "emotional arousal is not detected here",
        "valence": "emotional valence is not detected here",
        "exclude_reflexes": "there are no reflex neurons here",
        "include_paths": "activation paths are not returned here; each memory's score is",
    },
    "nmem_edit": {"tier": _NO_TIERS},
}

# Batch items: the same refusals as nmem_remember, per item.
NOT_SERVED_IN_BATCH_ITEMS = {
    k: v
    for k, v in NOT_SERVED["nmem_remember"].items()
    if k in ("encrypted", "trust_score", "source_id")
}

SHAPING_ARGUMENTS: dict[str, dict[str, Any]] = {
    "compact": {
        "type": "boolean",
        "description": "Shorter answer: long lists cut to 10 items (with _<key>_total), long "
        "texts in them cut to 120 characters, fibers_matched replaced by its count.",
    },
    "token_budget": {
        "type": "integer",
        "minimum": 50,
        "maximum": 1_000_000,
        "description": "Largest answer in tokens (about 4 characters each): lists and then "
        "texts are cut until it fits; _token_budget_applied says it was cut.",
    },
}


@dataclass(frozen=True, slots=True)
class Shape:
    compact: bool = False
    token_budget: int | None = None


SHAPE: ContextVar[Shape | None] = ContextVar("nmem_mcp_shape", default=None)

COMPACT_LIST_ITEMS = 10
COMPACT_PREVIEW = 120
BUDGET_LIST_ITEMS = 5
BUDGET_PREVIEW = 80
_COUNTED = frozenset({"fibers_matched", "expiry_warnings"})
_PREVIEWED = frozenset({"content", "text", "context", "answer", "summary", "message"})


def shaped(answer: dict[str, Any], shape: Shape | None) -> dict[str, Any]:
    """`answer` as the call asked for it: compacted, then cut to the token budget."""
    if shape is None:
        return answer
    if shape.compact:
        answer = _cut(answer, COMPACT_LIST_ITEMS, COMPACT_PREVIEW, count=True)
    if shape.token_budget is not None and tokens(answer) > shape.token_budget:
        for items, preview in ((BUDGET_LIST_ITEMS, None), (BUDGET_LIST_ITEMS, BUDGET_PREVIEW)):
            answer = _cut(answer, items, preview, count=False)
            if tokens(answer) <= shape.token_budget:
                break
        else:
            answer = {k: _clip(v, BUDGET_PREVIEW) for k, v in answer.items()}
        answer["_token_budget_applied"] = True
    return answer


def tokens(value: Any) -> int:
    """About how many tokens an answer costs a model (4 characters of JSON each)."""
    return len(json.dumps(value, ensure_ascii=False)) // 4 + 1


def _cut(answer: dict[str, Any], items: int, preview: int | None, *, count: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in answer.items():
        if isinstance(value, list):
            if count and key in _COUNTED:
                out[f"{key}_count"] = len(value)
                continue
            out[key] = [_preview(v, preview) for v in value[:items]]
            if len(value) > items:
                out[f"_{key}_truncated"] = True
                out[f"_{key}_total"] = len(value)
        elif isinstance(value, dict):
            out[key] = _cut(value, items, preview, count=count)
        else:
            out[key] = value
    return out


def _preview(item: Any, length: int | None) -> Any:
    if length is None or not isinstance(item, dict):
        return item
    return {k: _clip(v, length) if k in _PREVIEWED else v for k, v in item.items()}


def _clip(value: Any, length: int) -> Any:
    return value[:length] + "..." if isinstance(value, str) and len(value) > length else value
