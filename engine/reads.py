"""The read API of a brain, the same for the live brain and for any past view.

`Brain.at(t)` returns a `BrainView` with exactly this API (the database as a value): recall,
get, memories, history, stats, diff, context, answered as the brain would have answered at t.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from . import events as ev
from . import freshness, sets
from .api import Folded, HistoryEntry, Memory, RecallResult
from .clock import DAY_US, from_us, to_us
from .errors import InputError, IntegrityError, NotFoundError
from .model import MEMORY_TYPES
from .projection import ERASED, FORGOTTEN, PINNED, View
from .retrieval import (
    Filters,
    Window,
    activate,
    check_query,
    memories_at,
    parse_types,
    recall,
    tag_match,
    traced_recall,
)
from .semantic import hybrid
from .when import parse_span

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

    @contextmanager
    def state(self) -> Iterator[View]:
        """The projection as of this view, held still (the brain's lock) while the caller
        reads it: for engine readers that work on whole columns (the exporters)."""
        with self._brain._lock:
            yield self._view()

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
        since: When | None = None,
        until: When | None = None,
    ) -> RecallResult:
        """Memories that answer `query`, ranked, with a Markdown context within `max_tokens`.
        `tags`: only memories with all of them (`tag_mode` "and") or any ("or").
        `since`/`until` keep the memories that happened then (their event time, not when the
        brain learned them: that is `brain.at(...)`); a phrase's whole period counts ("until
        yesterday" takes in yesterday)."""
        window = self.event_window(since, until)
        with self._brain._lock:
            view = self._view()
            filters = Filters(
                types=parse_types(types),
                tags=frozenset(tags) if tags else None,
                any_tag=_any_tag(tag_mode),
                include_expired=include_expired,
                min_priority=min_priority,
                project=None if project is None else self._project_code(view, project),
                happened=window,
            )
            probe = hybrid.probe(view, query) if isinstance(query, str) and query.strip() else None
            return recall(
                view, query, depth=depth, limit=limit, max_tokens=max_tokens, filters=filters,
                probe=probe,
            )  # fmt: skip

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
        since: When | None = None,
        until: When | None = None,
    ) -> list[Memory]:
        """Memories, highest priority first, then newest (by when they were recorded).

        `status`: "visible" (default), "expired", "forgotten", "pinned", "erased" or "all";
        `tags`: only memories with all of them (`tag_mode` "and") or any ("or");
        `since`/`until`: only what happened then (event time), as in `recall`.
        """
        if limit < 1:
            raise InputError(f"limit must be positive, got {limit}")
        wanted = parse_types(types)
        any_tag = _any_tag(tag_mode)
        window = self.event_window(since, until)
        with self._brain._lock:
            view = self._view()
            mask = status_mask(view, status) & happened_mask(view, window)
            if wanted is not None:
                mask &= sets.isin(view.col("f_type"), list(wanted))
            if min_priority:
                mask &= view.col("f_priority") >= min_priority
            if project is not None:
                mask &= view.col("f_project") == self._project_code(view, project)
            chosen = np.flatnonzero(mask)
            if tags:
                chosen = chosen[tag_match(view, chosen, frozenset(tags), any_tag=any_tag)]
            order = np.lexsort((-chosen, -view.col("f_priority")[chosen]))[:limit]
            return memories_at(view, chosen[order].tolist())

    def context(
        self,
        *,
        limit: int = 10,
        fresh_only: bool = False,
        since: When | None = None,
        until: When | None = None,
    ) -> list[Memory]:
        """The newest visible memories: what an agent should know at the start of a session
        (`since`/`until`: of those that happened then, as in `recall`)."""
        if limit < 1:
            raise InputError(f"limit must be positive, got {limit}")
        window = self.event_window(since, until)
        with self._brain._lock:
            view = self._view()
            chosen = np.flatnonzero(view.visible() & happened_mask(view, window))[::-1]
            out: list[Memory] = []
            for start in range(0, len(chosen), 4 * limit):
                for memory in memories_at(view, chosen[start : start + 4 * limit].tolist()):
                    if not fresh_only or memory.freshness in ("fresh", "recent"):
                        out.append(memory)
                if len(out) >= limit:
                    break
            return out[:limit]

    def event_window(self, since: When | None, until: When | None) -> Window | None:
        """[since, until) in µs of event time, from datetimes or phrases read at this view's
        time: `since` at its period's start, `until` at its end; None when neither is given."""
        if since is None and until is None:
            return None
        now = to_us(self.time)  # the live brain's: now
        lo = None if since is None else parse_span(since, now)[0]
        hi = None
        if until is not None:
            start, end = parse_span(until, now)
            hi = end if end > start else end + 1  # a moment is included
        if lo is not None and hi is not None and lo >= hi:
            raise InputError("since must come before until")
        return lo, hi

    # -- events ----------------------------------------------------------------------------------

    def history(
        self,
        memory_id: str | None = None,
        *,
        types: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        fold: bool = False,
    ) -> list[HistoryEntry]:
        """Every event that touched one memory, or the brain's events; oldest first.

        With `limit`, the newest `limit` events (still oldest first). With `fold`, each run of
        reinforcements is one entry ("reinforced 12 times since 2 Dec"), so what a person
        reads is what changed.
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
        out = out[-limit:] if limit else out
        return fold_reinforcements(out, fiber_id, from_us(view.time)) if fold else out

    def events(self, after: int = 0, limit: int | None = None) -> list[ev.Envelope]:
        """The public event feed: the brain's events with seq > `after`, oldest first, at
        most `limit` of them, up to this view's seq (the live brain's feed runs to the last
        committed event). Exporters, the HTTP event stream and followers read the log through
        this and never open it themselves, whichever backend holds it. Erased content is
        already redacted in what it returns."""
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise InputError(f"after must be a seq >= 0, got {after!r}")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit < 1):  # fmt: skip
            raise InputError(f"limit must be a positive integer, got {limit!r}")
        brain, upto = self._brain, self._feed_end()
        if upto is not None and after >= upto:
            return []
        with brain.store.log.reader() as r:
            return list(islice(r.events(brain.id, after, upto), limit))

    def _feed_end(self) -> int | None:
        """The last seq the feed serves: this view's (None: the log's end)."""
        return self._seq

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

    def semantic(self) -> dict[str, Any]:
        """The semantic layer as of this view: its model, how many memories have a vector
        of it, and whether this process can load it (recall is lexical when it cannot)."""
        from .semantic import registry

        with self._brain._lock:
            view = self._view()
            p = view.p
            model, dims = p.model_at(view.seq)
            alive = (view.col("f_flags") & ERASED) == 0
            embedded = 0
            if model:
                store = p.vectors[model]
                live = store.live(view.seq)
                owners = store.fiber.values[: len(live)][live]
                embedded = int(alive[owners[owners < view.fibers]].sum())
            return {
                "brain": p.name,
                "seq": view.seq,
                "model": model or None,
                "dims": dims,
                "memories": int(alive.sum()),
                "embedded": embedded,
                "missing": int(alive.sum()) - embedded if model else 0,
                "available": bool(model) and registry.available(model),
                "models_known": registry.known(),
                "vector_bytes": sum(len(s.rows) + 4 * len(s.scale) for s in p.vectors.values()),
                "switches": [
                    {"seq": s, "model": m or None, "dims": d}
                    for s, m, d in p.models
                    if s <= view.seq
                ],
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

    # -- exploring (the dashboard's reads) ------------------------------------------------------

    def activity(self, *, days: int = 90, sweeps: int = 5) -> dict[str, Any]:
        """Events recorded and memories created per day (the last `days` days with events),
        and the last `sweeps` decay sweeps with how many links each pruned."""
        from . import explore  # the analysis views: loaded by the few commands that use them

        if not 1 <= days <= explore.MAX_DAYS:
            raise InputError(f"days must be between 1 and {explore.MAX_DAYS}, got {days}")
        if not 0 <= sweeps <= 100:
            raise InputError(f"sweeps must be between 0 and 100, got {sweeps}")
        brain = self._brain
        with brain._lock:
            view = self._view()
            per_day = explore.activity(view, days)
            done = [s for s, _ in view.p.sweeps if s <= view.seq][-sweeps:] if sweeps else []
        last = []
        with brain.store.log.reader() as r:
            for seq in reversed(done):
                env = r.event(brain.id, seq)
                if env is not None and isinstance(env.body, ev.DecayApplied):
                    pruned, touched = len(env.body.pruned), len(env.body.fiber_ids)
                    at = from_us(env.t).isoformat()
                    last.append({"seq": seq, "at": at, "pruned": pruned, "memories": touched})
        return {"seq": view.seq, "at": from_us(view.time).isoformat(), "days": per_day,
                "sweeps": last}  # fmt: skip

    def neighbourhood(
        self,
        memory_id: str | None = None,
        *,
        query: str | None = None,
        depth: int | None = None,
        limit: int = 60,
    ) -> dict[str, Any]:
        """The graph around one memory, or around what a question sets alight: the `limit`
        most activated neurons and memories, each with its activation, and the live links
        among them with their effective weights. Exactly one of `memory_id`, `query`."""
        from . import explore

        if (memory_id is None) == (query is None):
            raise InputError("give a memory id or a query (one of them)")
        if not 1 <= limit <= explore.MAX_NODES:
            raise InputError(f"limit must be between 1 and {explore.MAX_NODES}, got {limit}")
        if depth is not None and depth not in (0, 1, 2, 3):
            raise InputError(f"depth must be 0, 1, 2 or 3, got {depth}")
        with self._brain._lock:
            view = self._view()
            if memory_id is not None:
                fiber = resolve(view, memory_id, self.name)
                act = explore.memory_spread(view, fiber, 1 if depth is None else depth)
                keep = np.asarray([int(view.p.f_anchor[fiber])], dtype=np.int64)
                center: dict[str, Any] = {"memory_id": view.p.f_id[fiber]}
            else:
                assert query is not None
                check_query(query)
                probe = hybrid.probe(view, query)
                sp = activate(view, query, depth=depth, include_expired=False, probe=probe)
                act, keep = sp.act, sp.anchors.nodes
                center = {"query": query, "anchors": sp.anchors.labels}
            out = explore.graph(view, act, limit, keep)
            return {**center, "seq": view.seq, "at": from_us(view.time).isoformat(), **out}

    def explain(
        self, query: str, *, depth: int | None = None, limit: int = 10, paths: int = 3
    ) -> dict[str, Any]:
        """A recall (the same ranking) with, for each memory, the activation paths from the
        question's anchors that led to it. Never reinforces: looking is not remembering."""
        from . import explore

        if not 1 <= paths <= 10:
            raise InputError(f"paths must be between 1 and 10, got {paths}")
        with self._brain._lock:
            view = self._view()
            check_query(query)
            probe = hybrid.probe(view, query)
            result, sp = traced_recall(view, query, depth=depth, limit=limit, probe=probe)
            ids = view.p.ids
            fibers = [ids[m.memory.id] for m in result.memories]
            routes = explore.paths(view, sp, fibers, paths)
        out = result.to_dict()
        for memory, found in zip(out["memories"], routes, strict=True):
            memory["paths"] = found
        return out

    def snapshot(self, *, exclude_sensitive: bool = False) -> dict[str, Any]:
        """The brain's state as of this view, in the original NeuralMemory's snapshot shape
        (JSON-able): memories with their typed-memory fields, neurons, live links, projects.
        `exclude_sensitive` leaves out memories and neurons whose text has sensitive content
        (medium severity or more) and their links."""
        from . import importing
        from .snapshot import snapshot

        with self._brain._lock:
            data = snapshot(self._view())
        return importing.without_sensitive(data) if exclude_sensitive else data

    def graph(self) -> Any:
        """The brain as of this view as a networkx MultiDiGraph: neurons (type, content) and
        live links (type, effective weight). For analysis, GraphML and GEXF."""
        from .snapshot import to_networkx

        return to_networkx(self.snapshot())

    def export_history(self, after: int = 0) -> Iterator[dict[str, Any]]:
        """The brain's history up to this view: a header (format, version, event schema,
        brain id and name, seq, time), then every event from seq 1 (or, with `after`, the
        continuation from seq after+1, for a brain that imported the history up to `after`)
        as `events.to_jsonable` gives it. `Brain.import_history` replays it into another
        brain; `engine.exporters.history` writes it as JSONL or msgpack. Events are read in
        chunks, so no read transaction stays open while the caller consumes them."""
        brain = self._brain
        with brain._lock:
            view = self._view()
        if not 0 <= after < view.seq:
            raise InputError(
                f"brain {self.name!r} is at seq {view.seq}: a history continues after a seq "
                f"from 0 to {view.seq - 1}, not {after}"
            )
        from . import importing

        yield importing.history_header(
            brain.id, self.name, view.seq, view.time, brain.store.now(), first=after + 1
        )
        feed = BrainView(brain, view.seq, view.time)
        while after < view.seq:
            chunk = feed.events(after, EXPORT_CHUNK)
            if not chunk:
                raise IntegrityError(f"log of brain {brain.id} ends before seq {view.seq}")
            yield from (ev.to_jsonable(e) for e in chunk)
            after = chunk[-1].seq

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
When = str | datetime


def happened_mask(view: View, window: Window | None) -> npt.NDArray[np.bool_]:
    """Which memories of the view happened within the window (event time)."""
    if window is None:
        return np.ones(view.fibers, dtype=bool)
    start = view.p.f_start.values[: view.fibers]
    lo, hi = window
    mask = np.ones(view.fibers, dtype=bool)
    if lo is not None:
        mask &= start >= lo
    if hi is not None:
        mask &= start < hi
    return mask


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


def fold_reinforcements(
    entries: list[HistoryEntry], memory_id: str | None, now: datetime
) -> list[HistoryEntry]:
    """Each run of consecutive reinforcement entries as one: "reinforced 12 times since 2 Dec"
    in a memory's history (the recalls that brought it to the top), "reinforced 40 links of 5
    memories by 12 recalls since 2 Dec" in a brain's."""
    out: list[HistoryEntry] = []
    run: list[HistoryEntry] = []

    def close_run() -> None:
        if not run:
            return
        bodies = [e.event["body"] for e in run]
        first, last = run[0], run[-1]
        when = _since(first.recorded_at, last.recorded_at, now)
        if memory_id is not None:
            recalls = sum(_uses(b).get(memory_id, 0) for b in bodies)
            summary = f"reinforced {_times(recalls)} {when}"
        else:
            recalls = sum(b.get("recalls", 1) for b in bodies)
            links = len({s for b in bodies for s in b["synapses"]})
            memories = len({f for b in bodies for f in b["fiber_ids"]})
            summary = (
                f"reinforced {links} links of {memories} memories by {recalls} "
                f"recall{'s' * (recalls != 1)} {when}"
            )
        folded = Folded(len(run), first.seq, first.recorded_at, recalls)
        out.append(HistoryEntry(last.seq, last.recorded_at, last.type, summary, last.event, folded))
        run.clear()

    for e in entries:
        if e.type == "synapses_reinforced":
            run.append(e)
            continue
        close_run()
        out.append(e)
    close_run()
    return out


def _uses(body: dict[str, Any]) -> dict[str, int]:
    fids: list[str] = body["fiber_ids"]
    uses: list[int] = body.get("uses") or [1] * len(fids)
    return dict(zip(fids, uses, strict=True))


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def _since(first: datetime, last: datetime, now: datetime) -> str:
    """ "on 2 Dec" or "since 2 Dec" (local dates; the year when it is not this one)."""
    a, b, today = first.astimezone(), last.astimezone(), now.astimezone()
    day = f"{a.day} {a:%b}" + (f" {a.year}" if a.year != today.year else "")
    return f"on {day}" if a.date() == b.date() else f"since {day}"


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
            by = f" by {body.recalls} recalls" if body.recalls > 1 else ""
            return f"reinforced {len(body.synapses)} links of {len(body.fiber_ids)} memories{by}"
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
