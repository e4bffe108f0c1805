"""The read API of a brain, the same for the live brain and for any past view.

`Brain.at(t)` returns a `BrainView` with exactly this API (the database as a value): recall,
get, memories, history, stats, diff, context, answered as the brain would have answered at t.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from . import events as ev
from . import freshness, importing
from .api import HistoryEntry, Memory, RecallResult
from .clock import DAY_US, from_us, to_us
from .errors import InputError, IntegrityError, NotFoundError
from .model import MEMORY_TYPES
from .projection import ERASED, FORGOTTEN, PINNED, View
from .retrieval import Filters, memories_at, parse_types, recall, tag_match
from .snapshot import snapshot, to_networkx

if TYPE_CHECKING:
    from .brain import Brain

MIN_PREFIX = 4
EXPORT_CHUNK = 4096


class BrainView:
    """Read-only access to a brain as of one moment."""

    def __init__(self, brain: Brain, seq: int, time_us: int) -> None:
        self._brain = brain
        self._seq = seq
        self._time = time_us

    @property
    def name(self) -> str:
        return self._brain.name

    @property
    def seq(self) -> int:
        """The last event this view includes."""
        return self._seq

    @property
    def time(self) -> datetime:
        """The moment this view answers for (expiry and decay are evaluated at it)."""
        return from_us(self._time)

    def _view(self) -> View:
        return self._brain._projection_view(self._seq, self._time)

    # -- memories ---------------------------------------------------------------------------

    def recall(
        self,
        query: str,
        *,
        depth: int | None = None,
        limit: int = 10,
        max_tokens: int | None = None,
        types: list[str] | None = None,
        tags: list[str] | None = None,
        tag_mode: str = "and",
        project: str | None = None,
        include_expired: bool = False,
        min_priority: int = 0,
    ) -> RecallResult:
        """Memories that answer `query`, ranked, with a Markdown context within `max_tokens`.
        `tags`: only memories with all of them (`tag_mode` "and") or any ("or")."""
        with self._brain._lock:
            view = self._view()
            filters = Filters(
                types=parse_types(types),
                tags=frozenset(tags) if tags else None,
                any_tag=_any_tag(tag_mode),
                include_expired=include_expired,
                min_priority=min_priority,
                project=None if project is None else self._project_code(view, project),
            )
            return recall(
                view, query, depth=depth, limit=limit, max_tokens=max_tokens, filters=filters
            )

    def get(self, memory_id: str) -> Memory:
        """One memory by id or unique id prefix (at least 4 characters), whatever its status."""
        with self._brain._lock:
            view = self._view()
            return memories_at(view, [resolve(view, memory_id, self.name)])[0]

    def memories(
        self,
        *,
        types: list[str] | None = None,
        project: str | None = None,
        min_priority: int = 0,
        limit: int = 20,
        status: str = "visible",
        tags: list[str] | None = None,
        tag_mode: str = "and",
    ) -> list[Memory]:
        """Memories, highest priority first, then newest (by when they were recorded).

        `status`: "visible" (default), "expired", "forgotten", "pinned", "erased" or "all";
        `tags`: only memories with all of them (`tag_mode` "and") or any ("or").
        """
        if limit < 1:
            raise InputError(f"limit must be positive, got {limit}")
        wanted = parse_types(types)
        any_tag = _any_tag(tag_mode)
        with self._brain._lock:
            view = self._view()
            mask = status_mask(view, status)
            if wanted is not None:
                mask &= np.isin(view.col("f_type"), list(wanted))
            if min_priority:
                mask &= view.col("f_priority") >= min_priority
            if project is not None:
                mask &= view.col("f_project") == self._project_code(view, project)
            chosen = np.flatnonzero(mask)
            if tags:
                chosen = chosen[tag_match(view, chosen, frozenset(tags), any_tag=any_tag)]
            order = np.lexsort((-chosen, -view.col("f_priority")[chosen]))[:limit]
            return memories_at(view, chosen[order].tolist())

    def context(self, *, limit: int = 10, fresh_only: bool = False) -> list[Memory]:
        """The newest visible memories: what an agent should know at the start of a session."""
        if limit < 1:
            raise InputError(f"limit must be positive, got {limit}")
        with self._brain._lock:
            view = self._view()
            chosen = np.flatnonzero(view.visible())[::-1]
            out: list[Memory] = []
            for start in range(0, len(chosen), 4 * limit):
                for memory in memories_at(view, chosen[start : start + 4 * limit].tolist()):
                    if not fresh_only or memory.freshness in ("fresh", "recent"):
                        out.append(memory)
                if len(out) >= limit:
                    break
            return out[:limit]

    # -- events ----------------------------------------------------------------------------------

    def history(
        self,
        memory_id: str | None = None,
        *,
        types: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[HistoryEntry]:
        """Every event that touched one memory, or the brain's events; oldest first.

        With `limit`, the newest `limit` entries (still oldest first).
        """
        for name in types or ():
            if name not in ev.EVENT_TYPES:
                raise InputError(
                    f"unknown event type {name!r}; expected one of: {', '.join(ev.EVENT_TYPES)}"
                )
        brain = self._brain
        with brain._lock:
            view = self._view()
            fiber_id = (
                None if memory_id is None else view.p.f_id[resolve(view, memory_id, self.name)]
            )
        lo = to_us(since) if since else None
        hi = to_us(until) if until else None
        with brain.store.log.reader() as r:
            envs: Iterable[ev.Envelope]
            if fiber_id is not None:
                seqs = [s for s in r.refs(brain.id, fiber_id) if s <= view.seq]
                envs = (e for s in seqs if (e := r.event(brain.id, s)))
            else:
                # the recorded-time bounds and, without a type filter, the limit bound the
                # stretch of log to read: the last 50 events of a big brain read 50 records
                p = view.p
                first = p.seq_at(lo - 1) if lo is not None else 0
                last = min(view.seq, p.seq_at(hi)) if hi is not None else view.seq
                if limit and not types:
                    first = max(first, last - limit)
                envs = r.events(brain.id, first, last)
            out = [
                entry(e)
                for e in envs
                if (lo is None or e.t >= lo)
                and (hi is None or e.t <= hi)
                and (not types or ev.type_name(e.body) in types)
            ]
        return out[-limit:] if limit else out

    def stats(self) -> dict[str, Any]:
        with self._brain._lock:
            view = self._view()
            p = view.p
            visible = view.visible()
            flags = view.col("f_flags")
            kinds = np.bincount(view.col("f_type")[visible], minlength=len(MEMORY_TYPES))
            prios = np.bincount(view.col("f_priority")[visible], minlength=11)
            ages = (view.time - p.f_start.values[: view.fibers][visible]) / DAY_US
            bands = freshness.histogram(ages)
            sweeps = [t for s, t in p.sweeps if s <= view.seq]
            projects = [pid for pid in p.project_ids if p.project_at(pid, view.seq)]
            return {
                "brain": p.name,
                "seq": view.seq,
                "at": from_us(view.time).isoformat(),
                "memories": int(visible.sum()),
                "by_type": {t.value: int(c) for t, c in zip(MEMORY_TYPES, kinds, strict=True)},
                "by_priority": {str(i): int(c) for i, c in enumerate(prios) if c},
                "by_freshness": bands,
                "expired": int(view.expired().sum()),
                "forgotten": int(((flags & FORGOTTEN) != 0).sum()),
                "erased": int(((flags & ERASED) != 0).sum()),
                "pinned": int(((flags & PINNED) != 0).sum()),
                "neurons": view.neurons,
                "synapses": int((view.weights() > 0).sum()),
                "events": view.seq,
                "projects": len(projects),
                "last_decay_sweep": from_us(sweeps[-1]).isoformat() if sweeps else None,
                "average_age_days": round(float(ages.mean()), 2) if len(ages) else None,
            }

    def diff(self, since: BrainView, *, top: int = 10) -> dict[str, Any]:
        """What changed between an earlier view and this one: memories added, changed,
        forgotten, erased, expired; the links whose effective weight moved most."""
        if since._brain is not self._brain:
            raise InputError("diff compares two views of the same brain")
        if since.seq > self.seq:
            raise InputError("diff: the first moment must come before the second")
        with self._brain._lock:
            old, new = since._view(), self._view()
            out: dict[str, Any] = {
                "from": {"seq": old.seq, "at": from_us(old.time).isoformat()},
                "to": {"seq": new.seq, "at": from_us(new.time).isoformat()},
            }
            groups: dict[str, list[str]] = {
                "added": [], "changed": [], "forgotten": [], "restored": [], "erased": [],
                "expired": [], "pinned": [], "unpinned": [],
            }  # fmt: skip
            with self._brain.store.log.reader() as r:
                for env in r.events(self._brain.id, old.seq, new.seq):
                    group = _DIFF_GROUPS.get(type(env.body))
                    if group is not None:
                        groups[group].extend(ev.touched(env.body))
            for name, ids in groups.items():
                out[name] = list(dict.fromkeys(ids))
            out["weights"] = _weight_moves(old, new, top)
            return out

    def snapshot(self, *, exclude_sensitive: bool = False) -> dict[str, Any]:
        """The brain's state as of this view, in the original NeuralMemory's snapshot shape
        (JSON-able): memories with their typed-memory fields, neurons, live links, projects.
        `exclude_sensitive` leaves out memories and neurons whose text has sensitive content
        (medium severity or more) and their links."""
        with self._brain._lock:
            data = snapshot(self._view())
        return importing.without_sensitive(data) if exclude_sensitive else data

    def graph(self) -> Any:
        """The brain as of this view as a networkx MultiDiGraph: neurons (type, content) and
        live links (type, effective weight). For analysis, GraphML and GEXF."""
        return to_networkx(self.snapshot())

    def export_history(self, after: int = 0) -> Iterator[dict[str, Any]]:
        """The brain's history up to this view: a header (format, version, event schema,
        brain id and name, seq, time), then every event from seq 1 (or, with `after`, the
        continuation from seq after+1, for a brain that imported the history up to `after`)
        as `events.to_jsonable` gives it. `Brain.import_history` replays it into another
        brain; `importing.write_history` writes it as JSONL or msgpack. Events are read in
        chunks, so no read transaction stays open while the caller consumes them."""
        brain = self._brain
        with brain._lock:
            view = self._view()
        if not 0 <= after < view.seq:
            raise InputError(
                f"brain {self.name!r} is at seq {view.seq}: a history continues after a seq "
                f"from 0 to {view.seq - 1}, not {after}"
            )
        yield importing.history_header(
            brain.id, self.name, view.seq, view.time, brain.store.now(), first=after + 1
        )
        while after < view.seq:
            with brain.store.log.reader() as r:
                chunk = [
                    ev.to_jsonable(e)
                    for e in islice(r.events(brain.id, after, view.seq), EXPORT_CHUNK)
                ]
            if not chunk:
                raise IntegrityError(f"log of brain {brain.id} ends before seq {view.seq}")
            yield from chunk
            after = chunk[-1]["seq"]

    def _project_code(self, view: View, name: str) -> int:
        project = view.p.project_by_name(name, view.seq)
        if project is None:
            raise NotFoundError(f"no project named {name!r} in brain {self.name!r}")
        return view.p.project_ids.index(project.id)


_DIFF_GROUPS: dict[type, str] = {
    ev.MemoryEncoded: "added",
    ev.MemoryEdited: "changed",
    ev.MemoryRetyped: "changed",
    ev.MemoryForgotten: "forgotten",
    ev.MemoryRestored: "restored",
    ev.MemoryErased: "erased",
    ev.MemoriesExpired: "expired",
    ev.MemoryPinned: "pinned",
    ev.MemoryUnpinned: "unpinned",
}


def _weight_moves(old: View, new: View, top: int) -> list[dict[str, Any]]:
    m = old.synapses
    before, after = old.weights()[:m], new.weights()[:m]
    moved = np.abs(after.astype(np.float64) - before)
    order = np.argsort(-moved, kind="stable")[:top]
    p = new.p
    out = []
    for syn in order.tolist():
        if moved[syn] <= 0:
            break
        src, dst = int(p.s_src[syn]), int(p.s_dst[syn])
        out.append(
            {
                "synapse": syn,
                "memory": p.f_id[int(p.n_fiber[src])],
                "to": p.n_content[dst] or p.n_key[dst] or f"#{dst}",
                "before": round(float(before[syn]), 6),
                "after": round(float(after[syn]), 6),
            }
        )
    return out


def _any_tag(tag_mode: str) -> bool:
    if tag_mode not in ("and", "or"):
        raise InputError(f"tag_mode must be 'and' or 'or', got {tag_mode!r}")
    return tag_mode == "or"


STATUSES = ("visible", "expired", "forgotten", "pinned", "erased", "all")


def status_mask(view: View, status: str) -> npt.NDArray[np.bool_]:
    """Which memories of the view have this status."""
    if status not in STATUSES:
        raise InputError(f"status must be one of: {', '.join(STATUSES)}")
    flags = view.col("f_flags")
    if status == "visible":
        return view.visible().copy()
    if status == "expired":
        return view.expired()
    if status == "forgotten":
        return np.asarray((flags & FORGOTTEN) != 0)
    if status == "pinned":
        return np.asarray(((flags & PINNED) != 0) & ((flags & (ERASED | FORGOTTEN)) == 0))
    if status == "erased":
        return np.asarray((flags & ERASED) != 0)
    return np.ones(view.fibers, dtype=bool)


def resolve(view: View, memory_id: str, brain: str) -> int:
    """A memory's index from its id or a unique prefix of at least 4 characters."""
    p = view.p
    if not isinstance(memory_id, str) or not memory_id.strip():
        raise InputError("memory id is empty")
    key = memory_id.strip().lower()
    fiber = p.ids.get(memory_id.strip())  # an exact id first: imported ids may have capitals
    if fiber is None:
        fiber = p.ids.get(key)
    if fiber is None:
        if len(key) < MIN_PREFIX:
            raise InputError(f"memory id prefix {memory_id!r} is too short (min {MIN_PREFIX})")
        ids = p.f_id.slice(0, view.fibers)
        matches = [i for i, fid in enumerate(ids) if fid.startswith(key)]
        if not matches:  # imported ids may have capitals
            matches = [i for i, fid in enumerate(ids) if fid.lower().startswith(key)]
        if len(matches) > 1:
            raise InputError(
                f"memory id prefix {memory_id!r} is ambiguous ({len(matches)} memories)"
            )
        fiber = matches[0] if matches else None
    if fiber is None or fiber >= view.fibers:
        suffix = " at that time" if fiber is not None else ""
        raise NotFoundError(f"no memory {memory_id!r} in brain {brain!r}{suffix}")
    return fiber


def entry(env: ev.Envelope) -> HistoryEntry:
    return HistoryEntry(
        seq=env.seq,
        recorded_at=from_us(env.t),
        type=ev.type_name(env.body),
        summary=summarize(env.body),
        event=ev.to_jsonable(env),
    )


def summarize(body: ev.Body) -> str:
    """One line a person can read in a history listing."""

    def short(fiber_id: str) -> str:
        return fiber_id[:8]

    match body:
        case ev.MemoryEncoded(erased=True):
            return f"remembered {body.memory_type} {short(body.fiber_id)} (content erased)"
        case ev.MemoryEncoded():
            text = body.text if len(body.text) <= 70 else body.text[:69] + "…"
            return f"remembered {body.memory_type} {short(body.fiber_id)}: {text}"
        case ev.MemoryEdited():
            text = body.text if len(body.text) <= 70 else body.text[:69] + "…"
            return f"edited {short(body.fiber_id)}: {text or '(content erased)'}"
        case ev.MemoryRetyped():
            return f"retyped {short(body.fiber_id)}: {body.memory_type}, priority {body.priority}"
        case ev.MemoryPinned() | ev.MemoryUnpinned() | ev.MemoryRestored():
            verb = ev.type_name(body).split("_")[1]
            return f"{verb} {short(body.fiber_id)}"
        case ev.MemoryForgotten():
            return f"forgot {short(body.fiber_id)}" + (f": {body.reason}" if body.reason else "")
        case ev.MemoryErased():
            return f"erased {short(body.fiber_id)} by {body.by} ({len(body.synapses)} links)"
        case ev.SynapsesReinforced():
            return f"reinforced {len(body.synapses)} links of {len(body.fiber_ids)} memories"
        case ev.DecayApplied():
            return f"decay sweep: pruned {len(body.pruned)} links"
        case ev.MemoriesExpired():
            return f"expired {len(body.fiber_ids)} memories"
        case ev.ProjectCreated() | ev.ProjectChanged():
            return f"{ev.type_name(body).replace('_', ' ')}: {body.project.name}"
        case ev.ProjectDeleted():
            return f"project deleted: {body.project_id[:8]}"
        case ev.BrainCreated():
            return f"brain {body.name!r} created"
        case ev.BrainConfigured():
            return "brain configuration changed"
    return ev.type_name(body)
