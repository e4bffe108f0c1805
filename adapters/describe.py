"""Saying what a change did, the same way on every surface (CLI, MCP, HTTP): the fields an edit
moved, and the memories a diff lists, by their text rather than only their ids."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine import BrainView, Memory

DIFF_GROUPS = (
    "added",
    "changed",
    "forgotten",
    "restored",
    "erased",
    "expired",
    "pinned",
    "unpinned",
)


def preview(text: str, width: int = 70) -> str:
    """A text on one line, cut to `width` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def edit_changes(before: Memory, after: Memory) -> list[str]:
    """What an edit changed, one line per field: 'priority: 5 → 8', 'text: "a" → "b"'."""
    out: list[str] = []
    if before.text != after.text:
        out.append(f'text: "{preview(before.text, 40)}" → "{preview(after.text, 40)}"')
    pairs: list[tuple[str, object, object]] = [
        ("type", before.memory_type.value, after.memory_type.value),
        ("priority", before.priority, after.priority),
        ("tags", ", ".join(before.tags) or "-", ", ".join(after.tags) or "-"),
        ("expires", _when(before.expires_at), _when(after.expires_at)),
        ("project", before.project or "-", after.project or "-"),
    ]
    out.extend(f"{name}: {old} → {new}" for name, old, new in pairs if old != new)
    return out


def _when(value: Any) -> str:
    return "never" if value is None else value.astimezone().isoformat(timespec="minutes")


def diff_memories(view: BrainView, diff: dict[str, Any], per_group: int) -> dict[str, Any]:
    """Each group of a diff with its first `per_group` memories as {id, type, text} (as the
    later view knows them; an erased memory has no text left) and its full count."""
    from engine import NotFoundError

    out: dict[str, Any] = {}
    for group in DIFF_GROUPS:
        ids: list[str] = diff.get(group, [])
        shown = []
        for memory_id in ids[:per_group]:
            try:
                m = view.get(memory_id)
            except NotFoundError:  # pragma: no cover - the diff's ids come from this brain
                shown.append({"id": memory_id, "type": None, "text": None})
                continue
            text = None if m.status == "erased" else m.text
            shown.append({"id": m.id, "type": m.memory_type.value, "text": text})
        out[group] = {"count": len(ids), "memories": shown}
    return out
