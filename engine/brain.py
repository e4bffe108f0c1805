"""The live brain: its projection kept in step with the log, and every write.

A write runs in one write transaction of the log store (which fixes the brain's head against
other processes), catches the projection up with whatever other processes committed, decides
the event(s) against that state, appends, commits (one fsync) and folds the events in. Any
failure drops the projection, which may hold uncommitted events; the next read reloads it.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

import msgspec
import numpy as np

from . import checkpoint, lifecycle, screening
from . import events as ev
from .api import Changed, MemoryInput, RecallResult, Remembered
from .clock import days_us, from_us
from .errors import InputError, IntegrityError, NotFoundError, SensitiveContentError
from .fold import apply_all, apply_batches
from .logstore import Reader, Writer
from .model import MemoryType
from .projection import ERASED, FORGOTTEN, NO_EXPIRY, PINNED, Projection, View
from .reads import BrainView, resolve
from .retrieval import REINFORCED
from .semantic import decide as semantic
from .semantic import registry as embedders
from .when import parse_when

if TYPE_CHECKING:  # imports, exports and the encoder load when used: reads (a fresh
    # `nmem recall`) do not need them
    from . import importing
    from .encoder import Prepared
    from .store import Store

T = TypeVar("T")
# pending reinforcement becomes one event per this many recalls, or this long after the first
REINFORCE_EVERY = 32
REINFORCE_INTERVAL_US = 3600 * 1_000_000
PENDING, LAST_SWEEP = "reinforce_pending", "last_auto_sweep"  # the brain's log meta
REPLAY_CHUNK = 8192
# Checkpoint bytes an event may cost, amortised: a brain checkpoints once the events since its
# last checkpoint number at least that checkpoint's size over this (and `checkpoint_every`).
# Writing a checkpoint costs ~2 ns a byte and replaying an event ~5-10 µs, so the tail a crash
# leaves to replay costs about one checkpoint's writing.
CHECKPOINT_BYTES_PER_EVENT = 4096
BACKFILL_CHUNK = 1024  # memories embedded per `memories_embedded` event


class Brain(BrainView):
    """The live brain: reads as of now, plus the write API."""

    def __init__(self, store: Store, brain_id: str, name: str, *, registered: bool = True) -> None:
        super().__init__(self, 0, 0)
        self.store = store
        self.id = brain_id
        self._name = name
        self._registered = registered  # False: registered by the first write that commits
        self._lock = threading.RLock()
        self._p: Projection | None = None
        self._ckpt_seq = 0
        self._ckpt_bytes = 0  # the size of that checkpoint
        self._swept = False
        self._pending: dict[int, int] = {}  # synapse -> times it carried a recall
        self._pending_fibers: dict[str, int] = {}  # memory id -> times it was among the best
        self._pending_recalls = 0
        self._pending_since = 0  # when the first pending recall ran (µs)

    @property
    def name(self) -> str:
        return self._name

    @property
    def seq(self) -> int:
        with self._lock:
            return self._refreshed().seq

    @property
    def time(self) -> datetime:
        return from_us(self.store.now())

    @property
    def folded(self) -> int:
        """The last seq the projection has folded, without catching up with the log (0 before
        it loads): how far behind the log a server's answers can be."""
        p = self._p
        return 0 if p is None else p.seq

    @property
    def config(self) -> ev.BrainConfig:
        with self._lock:
            return self._refreshed().config

    def _view(self) -> View:
        p = self._refreshed()
        return p.view(p.seq, _now(p, self.store.now()))

    def _feed_end(self) -> int | None:
        return None  # the live brain's feed runs to the last committed event

    def _projection_view(self, seq: int, time_us: int) -> View:
        return self._refreshed().view(seq, time_us)

    # -- projection lifecycle ----------------------------------------------------------------------

    def _refreshed(self) -> Projection:
        """The projection, caught up with everything committed to the log."""
        if self._p is None:
            self._p = self._load()
        p = self._p
        with self.store.log.reader() as r:
            start, report = p.seq, self.store.on_replay
            if report is None:
                apply_batches(p, r.batches(self.id, after=start))
            else:  # a long catch-up (no recent checkpoint): fold in chunks, saying how far
                total, events = r.head(self.id) - start, r.events(self.id, after=start)
                while chunk := list(itertools.islice(events, REPLAY_CHUNK)):
                    apply_all(p, chunk)
                    if total > REPLAY_CHUNK:
                        report(p.seq - start, total)
        self._maybe_checkpoint()
        if not self._swept and self.store.auto_sweep and not self.store.read_only:
            self._swept = True
            self._sweep_if_due()
        return self._p

    def _load(self, r: Reader | None = None) -> Projection:
        if r is None:
            with self.store.log.reader() as reader:
                return self._load(reader)
        head = r.head(self.id)
        floor = int(r.meta(self.id, "checkpoint_floor") or b"0")
        ckpts = self.store.log.checkpoints
        best = checkpoint.load_best(ckpts, self.id, head, floor, self._replayed)
        if best is None:
            self._ckpt_seq = self._ckpt_bytes = 0
            return Projection(self.id)
        p, self._ckpt_bytes = best
        self._ckpt_seq = p.seq
        return p

    def _replayed(self, seq: int) -> Projection:
        """The log folded from nothing up to `seq`: what a damaged checkpoint column is rebuilt
        from."""
        with self.store.log.reader() as r:
            return apply_batches(Projection(self.id), r.batches(self.id, upto=seq))

    def _maybe_checkpoint(self) -> None:
        """Checkpoint every `checkpoint_every` events, or once the events since the last
        checkpoint number its size over CHECKPOINT_BYTES_PER_EVENT if that is more: a
        checkpoint rewrites the whole projection, so a fixed interval would make writing to a
        large brain quadratic. The tail a crash leaves to replay is as bounded. A clean close
        checkpoints the rest."""
        p = self._p
        if p is None:
            return
        due = max(p.config.checkpoint_every, self._ckpt_bytes // CHECKPOINT_BYTES_PER_EVENT)
        if p.seq - self._ckpt_seq >= due:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Save the projection now (also done every `checkpoint_every` events and on close)."""
        with self._lock:
            p = self._p
            if p is None or p.seq == self._ckpt_seq or self.store.read_only:
                return
            self._ckpt_bytes = checkpoint.save(self.store.log.checkpoints, p)
            checkpoint.prune(self.store.log.checkpoints, self.id)
            self._ckpt_seq = p.seq

    def close(self) -> None:
        with self._lock:
            self._settle()
            if self._p is not None and self._p.seq - self._ckpt_seq >= 256:
                self.checkpoint()
            self._p = None

    def _write(self, decide: Callable[[Writer, Projection], T], *, room: int = 0) -> T:
        """Run `decide` in a write transaction with the projection caught up to the log's end.
        Any failure drops the projection (it may hold events that were never committed) so the
        next read reloads it; so does a transaction the log store runs again (LMDB, after
        growing a full map). `room`: about how many bytes the write adds."""
        with self._lock:
            self._refreshed()
            attempts = 0

            def attempt(w: Writer) -> T:
                nonlocal attempts
                attempts += 1
                if attempts > 1 or self._p is None:
                    self._p = self._load(w)
                p = self._p
                if not self._registered:
                    self.store.register(w, self.name, self.id, p.config)
                apply_batches(p, w.batches(self.id, after=p.seq))
                return decide(w, p)

            try:
                out = self.store.log.write(attempt, room=room)
            except BaseException:
                self._p = None
                raise
            self._registered = True
            self._maybe_checkpoint()
            return out

    def _append(
        self, w: Writer, p: Projection, body: ev.Body, cid: str | None = None,
        policy: str | None = None,
    ) -> ev.Envelope:  # fmt: skip
        env, fresh = w.append(self.id, body, cid=cid, refs=ev.touched(body), t_us=self.store.now(),
                              policy=policy or p.config.sensitive_policy)  # fmt: skip
        if fresh:
            apply_all(p, (env,))
        return env

    # -- remembering -------------------------------------------------------------------------------

    def remember(self, text: str, **options: Any) -> Remembered:
        """Remember one text; options are the fields of `MemoryInput`."""
        return self.remember_many([MemoryInput(text=text, **options)])[0]

    def remember_many(self, items: Iterable[MemoryInput]) -> list[Remembered]:
        """Remember many memories in one transaction: one fsync, all or nothing."""
        from .encoder import prepare

        with self._lock:
            p = self._refreshed()
            policy = p.config.sensitive_policy
            projects: dict[str, str] = {}
            batch: list[Prepared] = []
            for item in items:
                project = None
                if item.project is not None:
                    if item.project not in projects:
                        found = p.project_by_name(item.project, p.seq)
                        if found is None:
                            raise NotFoundError(f"no project named {item.project!r}")
                        projects[item.project] = found.id
                    project = projects[item.project]
                batch.append(prepare(item, policy, project))
        if not batch:
            return []
        self._settle()
        room = sum(len(i.text) for i in batch) * 8 + 4096 * len(batch)
        return self._write(lambda w, p: self._remember_batch(w, p, batch), room=room)

    def _remember_batch(self, w: Writer, p: Projection, batch: list[Prepared]) -> list[Remembered]:
        from .encoder import Batch, decide_encode

        out: list[tuple[ev.Envelope, bool]] = []  # (event, whether its cid was stored before)
        now = self.store.now()
        deciding = Batch(p)
        written: list[ev.Envelope] = []
        vectors = semantic.vectors_for(p, [item.text for item in batch])
        for i, item in enumerate(batch):
            if item.cid is not None:
                seq = w.seq_for_cid(self.id, item.cid)
                if seq is not None:
                    stored = w.event(self.id, seq)
                    if stored is None or not isinstance(stored.body, ev.MemoryEncoded):
                        raise InputError(f"idempotency key {item.cid!r} was used for another write")
                    out.append((stored, True))
                    continue
            body = decide_encode(deciding, item, now)
            if vectors is not None:
                body = msgspec.structs.replace(
                    body, vector=vectors[i][0], vector_scale=vectors[i][1]
                )
            env, _ = w.append(self.id, body, cid=item.cid, refs=(body.fiber_id,), t_us=now,
                              policy=item.policy, cid_unused=True)  # fmt: skip
            written.append(env)
            out.append((env, False))
        apply_all(p, written)
        return _remembered(out)

    # -- changing memories -------------------------------------------------------------------------

    def _on_memory(
        self,
        memory_id: str,
        decide: Callable[[Projection, View, int], ev.Body | None],
        cid: str | None = None,
    ) -> Changed:
        self._settle()

        def run(w: Writer, p: Projection) -> Changed:
            if cid is not None and (seq := w.seq_for_cid(self.id, cid)) is not None:
                stored = w.event(self.id, seq)
                touched = ev.touched(stored.body) if stored else []
                return Changed(touched[0] if touched else "", seq, _name_of(stored), True)
            view = p.view(p.seq, self.store.now())
            fiber = resolve(view, memory_id, self.name)
            body = decide(p, view, fiber)
            if body is None:  # nothing to change: say so without writing
                return Changed(p.f_id[fiber], p.seq, "unchanged")
            env = self._append(w, p, body, cid)
            return Changed(p.f_id[fiber], env.seq, ev.type_name(body))

        return self._write(run)

    def edit(
        self,
        memory_id: str,
        text: str | None = None,
        *,
        memory_type: str | None = None,
        priority: int | None = None,
        tags: list[str] | None = None,
        expires_in_days: float | None = None,
        project: str | bool | None = False,
        cid: str | None = None,
    ) -> Changed:
        """Change a memory's text (re-linked), type, priority, tags, expiry or project.
        `project`: a project name, None to clear it, False (default) to keep it."""
        policy = self.config.sensitive_policy
        project_id = self._project_id(project)

        def run(w: Writer, p: Projection) -> Changed:
            view = p.view(p.seq, self.store.now())
            fiber = resolve(view, memory_id, self.name)
            _require(p, fiber, not_erased=True)
            steps: list[tuple[int, str]] = []
            if text is not None:
                body = lifecycle.decide_edit(p, fiber, text, policy)
                vectors = None if body is None else semantic.vectors_for(p, [body.text])
                if body is not None and vectors is not None:
                    vector, scale = vectors[0]
                    body = msgspec.structs.replace(body, vector=vector, vector_scale=scale)
                if body is not None:
                    steps.append((self._append(w, p, body, cid).seq, "memory_edited"))
            retype = lifecycle.decide_retype(
                p.view(p.seq, self.store.now()), fiber, kind=memory_type, prio=priority, tags=tags,
                expires_in_days=expires_in_days, project=project_id, now=self.store.now(),
            )  # fmt: skip
            if retype is not None:
                seq = self._append(w, p, retype, None if steps else cid).seq
                steps.append((seq, "memory_retyped"))
            if not steps:
                return Changed(p.f_id[fiber], p.seq, "unchanged")
            return Changed(p.f_id[fiber], *steps[-1], appended=tuple(steps))

        self._settle()
        return self._write(run)

    def pin(self, memory_id: str) -> Changed:
        """Exempt a memory from decay and expiry."""
        return self._on_memory(memory_id, _flag_change(PINNED, True, ev.MemoryPinned))

    def unpin(self, memory_id: str) -> Changed:
        return self._on_memory(memory_id, _flag_change(PINNED, False, ev.MemoryUnpinned))

    def forget(self, memory_id: str, *, reason: str = "", hard: bool = False) -> Changed:
        """Hide a memory from every read (restorable), or with `hard` erase it for good."""
        if hard:
            return self.erase(memory_id)

        def decide(p: Projection, view: View, fiber: int) -> ev.Body | None:
            _require(p, fiber, not_erased=True)
            if p.f_flags[fiber] & FORGOTTEN:
                return None
            return ev.MemoryForgotten(fiber_id=p.f_id[fiber], reason=reason)

        return self._on_memory(memory_id, decide)

    def restore(self, memory_id: str) -> Changed:
        """Undo a soft forget."""
        return self._on_memory(memory_id, _flag_change(FORGOTTEN, False, ev.MemoryRestored))

    def erase(self, memory_id: str, *, by: str = "user") -> Changed:
        """Erase a memory for good: its content is redacted in the log, checkpoints holding it
        are dropped, and after `Store.compact()` its text is in no file of the store. The log
        keeps the fact that something was erased, when and by whom."""
        self._settle()

        def run(w: Writer, p: Projection) -> Changed:
            fiber = resolve(p.view(p.seq, self.store.now()), memory_id, self.name)
            body = lifecycle.decide_erase(p, fiber, by)
            self._redact(w, p, body)
            env = self._append(w, p, body)
            w.put_meta(self.id, "checkpoint_floor", str(env.seq).encode())
            return Changed(body.fiber_id, env.seq, "memory_erased")

        done = self._write(run)
        checkpoint.drop_below(self.store.log.checkpoints, self.id, done.seq)
        self._ckpt_seq = 0
        return done

    def _redact(self, w: Writer, p: Projection, erased: ev.MemoryErased) -> None:
        """Take an erased memory's content out of its earlier records in the log, and its
        last words out of the records of the (erased) memories that created them."""
        blank = set(erased.neurons)
        for fiber_id in {erased.fiber_id, *lifecycle.linked_memories(p, erased.neurons)}:
            for seq in w.refs(self.id, fiber_id):
                old = w.event(self.id, seq)
                if old is None:
                    continue
                new = (
                    lifecycle.redacted(old.body, blank, fiber_id)
                    if fiber_id == erased.fiber_id
                    else lifecycle.without_neurons(old.body, blank)
                )
                if new is not None and new != old.body:
                    w.replace(self.id, msgspec.structs.replace(old, body=new))

    # -- recall and its reinforcement --------------------------------------------------------------

    def recall(self, query: str, *, reinforce: bool = True, **options: Any) -> RecallResult:
        """Recall as of now. Unless `reinforce` is False, the links that led to the best
        memories are reinforced: one event for many recalls, across processes (see `_settle`).
        """
        result = super().recall(query, **options)
        if reinforce and result.links and not self.store.read_only:
            with self._lock:
                for syn in result.links:
                    self._pending[syn] = self._pending.get(syn, 0) + 1
                for m in result.memories[:REINFORCED]:
                    self._pending_fibers[m.memory.id] = self._pending_fibers.get(m.memory.id, 0) + 1
                self._pending_recalls += 1
                now = self.store.now()
                self._pending_since = self._pending_since or now
                due = (
                    self._pending_recalls >= REINFORCE_EVERY
                    or now - self._pending_since >= REINFORCE_INTERVAL_US
                )
            if due:
                self._settle()
        return result

    def flush(self) -> None:
        """Write all pending reinforcement now, this process's and what others left in the log's
        meta, as one event."""
        self._settle(force=True)

    def _take_pending(self) -> lifecycle.Pending:
        mine = lifecycle.Pending(
            self._pending, self._pending_fibers, self._pending_recalls, self._pending_since
        )
        self._pending, self._pending_fibers, self._pending_recalls = {}, {}, 0
        self._pending_since = 0
        return mine

    def _settle(self, *, force: bool = False) -> None:
        """Hand this process's pending reinforcement on: merged with what other processes left
        in the log's meta, it becomes one `synapses_reinforced` event once due (every
        `REINFORCE_EVERY` recalls, or `REINFORCE_INTERVAL_US` after the first; at once with
        `force`), else it waits in the meta. Called before every write and on close, so each
        CLI recall (a process of its own) adds to one event rather than writing its own."""
        if self.store.read_only:
            return
        with self._lock:
            mine = self._take_pending()
            if not mine.recalls:
                if not force:
                    return
                with self.store.log.reader() as r:
                    if not r.meta(self.id, PENDING):
                        return

            def run(w: Writer, p: Projection) -> None:
                stored = lifecycle.decode_pending(w.meta(self.id, PENDING))
                pending = lifecycle.merge_pending(stored, mine)
                now = self.store.now()
                every, interval = REINFORCE_EVERY, REINFORCE_INTERVAL_US
                if force or lifecycle.reinforcement_due(pending, now, every=every,
                                                        interval_us=interval):  # fmt: skip
                    body = lifecycle.decide_reinforce(p, pending, p.config.reinforce_delta)
                    if body is not None:
                        self._append(w, p, body)
                    pending = lifecycle.NOTHING_PENDING
                if pending != stored:
                    w.put_meta(self.id, PENDING, lifecycle.encode_pending(pending))

            self._write(run)

    # -- the semantic layer ------------------------------------------------------------------------

    def semantic_enable(
        self,
        model: str = embedders.DEFAULT_MODEL,
        *,
        progress: importing.Progress | None = None,
    ) -> dict[str, Any]:
        """Turn the semantic layer on with `model` (recorded as an event, so replay and past
        views follow the switch) and embed every memory that has no vector of it yet."""
        embedders.check(model)
        embedders.load(model)  # refuse before writing if it cannot load here
        self.flush()

        def run(w: Writer, p: Projection) -> bool:
            body = semantic.decide_model(p, model)
            if body is not None:
                self._append(w, p, body)
            return body is not None

        switched = self._write(run)
        embedded = self._backfill(0, progress)
        return {**self.semantic(), "switched": switched, "embedded_now": embedded}

    def semantic_rebuild(self, *, progress: importing.Progress | None = None) -> dict[str, Any]:
        """Embed every memory again with the brain's model (after the model's files changed,
        or to replace vectors written by another process's copy of it)."""
        with self._lock:
            p = self._refreshed()
            if not p.model_at(p.seq)[0]:
                raise InputError(f"brain {self.name!r} has no semantic layer: nmem semantic enable")
            since = p.seq
        embedded = self._backfill(since, progress)
        return {**self.semantic(), "embedded_now": embedded}

    def semantic_disable(self) -> dict[str, Any]:
        """Turn the layer off from now on (vectors stay in the history: past views keep it)."""
        self.flush()

        def run(w: Writer, p: Projection) -> bool:
            body = semantic.decide_model(p, "")
            if body is not None:
                self._append(w, p, body)
            return body is not None

        switched = self._write(run)
        return {**self.semantic(), "switched": switched}

    def _backfill(self, since: int, progress: importing.Progress | None) -> int:
        """Embed, a chunk per event (and per write), the memories `semantic.stale` names;
        an interrupted backfill resumes where it stopped."""
        with self._lock:
            total = len(semantic.stale(self._refreshed(), since))
        done = 0
        while True:

            def run(w: Writer, p: Projection) -> int:
                fibers = semantic.stale(p, since)[:BACKFILL_CHUNK]
                body = semantic.decide_backfill(p, fibers)
                if body is not None:
                    self._append(w, p, body)
                return len(fibers)

            n = self._write(run, room=BACKFILL_CHUNK * 2048)
            done += n
            if progress is not None:
                progress(min(done, total), total)
            if n < BACKFILL_CHUNK:
                return done

    # -- sweeps ------------------------------------------------------------------------------------

    def decay(self) -> dict[str, Any]:
        """Sweep decay now: prune the links that have faded below the floor."""
        self._settle()

        def run(w: Writer, p: Projection) -> dict[str, Any]:
            body = lifecycle.decide_decay(p.view(p.seq, self.store.now()), p.config.prune_retention)
            env = self._append(w, p, body)
            return {"seq": env.seq, "pruned": len(body.pruned), "memories": len(body.fiber_ids)}

        return self._write(run)

    def _sweep_if_due(self) -> None:
        """The sweep a brain makes by itself when it opens and the last one is old. One that
        prunes nothing is no event (the brain's history would fill with empty sweeps): its
        time is kept in the log's meta instead."""
        p = self._p
        if p is None or p.seq == 0:
            return
        interval = p.config.decay_interval_s * 1_000_000
        now = self.store.now()
        last = p.sweeps[-1][1] if p.sweeps else p.time_of(1)
        if now - last < interval:
            return
        with self.store.log.reader() as r:
            last = max(last, int(r.meta(self.id, LAST_SWEEP) or b"0"))
        if now - last < interval:
            return
        self._settle()

        def run(w: Writer, p: Projection) -> None:
            body = lifecycle.decide_decay(p.view(p.seq, now), p.config.prune_retention)
            if body.pruned:
                self._append(w, p, body)
            else:
                w.put_meta(self.id, LAST_SWEEP, str(now).encode())

        self._write(run)

    def cleanup(self, *, dry_run: bool = False) -> list[str]:
        """Record the memories past their expiry as expired (their links are pruned)."""
        self._settle()
        if dry_run:
            with self._lock:
                p = self._refreshed()
                body = lifecycle.decide_expire(p.view(p.seq, self.store.now()))
                return [] if body is None else list(body.fiber_ids)

        def run(w: Writer, p: Projection) -> list[str]:
            body = lifecycle.decide_expire(p.view(p.seq, self.store.now()))
            if body is None:
                return []
            self._append(w, p, body)
            return list(body.fiber_ids)

        return self._write(run)

    # -- projects ----------------------------------------------------------------------------------

    def _project_id(self, name: str | bool | None) -> str | bool | None:
        if name is None or name is False:
            return name
        if not isinstance(name, str):
            raise InputError("project must be a project name")
        with self._lock:
            p = self._refreshed()
            found = p.project_by_name(name, p.seq)
        if found is None:
            raise NotFoundError(f"no project named {name!r} in brain {self.name!r}")
        return found.id

    def create_project(
        self,
        name: str,
        *,
        description: str = "",
        duration_days: float | None = None,
        tags: list[str] | None = None,
        priority: float = 1.0,
    ) -> ev.Project:
        self._settle()

        def run(w: Writer, p: Projection) -> ev.Project:
            if p.project_by_name(name, p.seq) is not None:
                raise InputError(f"project {name.strip()!r} already exists")
            project = lifecycle.new_project(
                uuid.uuid4().hex, name, description=description, start=from_us(self.store.now()),
                duration_days=duration_days, tags=tags or [], priority_=priority,
            )  # fmt: skip
            self._append(w, p, ev.ProjectCreated(project))
            return project

        return self._write(run)

    def extend_project(self, name: str, days: float) -> ev.Project:
        """Move a project's end `days` later (an ongoing project has no end to move)."""
        self._settle()

        def run(w: Writer, p: Projection) -> ev.Project:
            project = _project(p, name)
            if project.end is None:
                raise InputError(f"project {project.name!r} is ongoing: it has no end to extend")
            changed = msgspec.structs.replace(project, end=project.end + days_us(days, "extension"))
            self._append(w, p, ev.ProjectChanged(changed))
            return changed

        return self._write(run)

    def delete_project(self, name: str) -> ev.Project:
        """Delete a project; its memories stay, without a project."""
        self._settle()

        def run(w: Writer, p: Projection) -> ev.Project:
            project = _project(p, name)
            self._append(w, p, ev.ProjectDeleted(project.id))
            return project

        return self._write(run)

    def projects(self) -> list[ev.Project]:
        with self._lock:
            p = self._refreshed()
            return [pr for pid in p.project_ids if (pr := p.project_at(pid, p.seq))]

    # -- configuration -----------------------------------------------------------------------------

    def configure(self, **changes: Any) -> ev.BrainConfig:
        """Change configuration values (the names of `BrainConfig`, each within its range)."""
        ev.settings(changes)  # refuse a bad value before waiting for the write lock
        self._settle()

        def run(w: Writer, p: Projection) -> ev.BrainConfig:
            config = ev.settings({**msgspec.structs.asdict(p.config), **changes})
            if config != p.config:
                self._append(w, p, ev.BrainConfigured(config))
            return config

        return self._write(run)

    # -- import ------------------------------------------------------------------------------

    def import_history(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        sensitive: str | None = None,
        progress: importing.Progress | None = None,
    ) -> dict[str, Any]:
        """Append an exported history (`export_history`'s header and events) to this brain,
        so that it becomes the exporting brain again, event for event.

        Into a new brain (nothing but its own creation): the brain takes over the source's
        creation event (configuration and recorded time; it keeps its own name and id) and
        every later event with its seq and recorded time, so the projection is the source's
        byte for byte apart from brain id and name. Into a brain that has other events but no
        memories: events follow its own, with recorded times moved after them where needed.
        Into a brain that holds a prefix of this same history from an earlier import: the rest
        is appended. Events get client ids "import:<source brain id>:<seq>", so importing the
        same history again stores nothing. Anything else is refused (InputError), and a
        refused import writes nothing. Texts pass the sensitive-content check (`sensitive`
        or the brain's policy; 'redact' cannot apply to a history)."""
        from . import importing

        history = importing.parse_history(records, progress)
        policy = screening.check_policy(sensitive or self.config.sensitive_policy)
        self._swept = True  # no decay sweep first: it would be an event the source lacks
        self._settle()
        out = self._write(
            lambda w, p: self._import_events(w, p, history, policy), room=history.size_hint()
        )
        if out.pop("rewrote", False):
            checkpoint.drop_below(self.store.log.checkpoints, self.id, out["seq"])
            self._ckpt_seq = 0
        return out

    def _import_events(
        self, w: Writer, p: Projection, h: importing.History, policy: str
    ) -> dict[str, Any]:
        def cid(seq: int) -> str:
            return f"import:{h.source_id}:{seq}"

        events, target, rewrote = h.events, p, False
        first: int | None  # where this brain holds seq max(2, h.first) of the source
        if h.first > 1:  # a continuation: this brain must end where it left off
            anchor = w.seq_for_cid(self.id, cid(h.first - 1))
            if anchor is None:
                raise InputError(
                    f"this history continues seq {h.first - 1} of brain {h.source_id}, which "
                    f"brain {self.name!r} does not hold: import the history from seq 1"
                )
            first = anchor + 1
        else:
            first = w.seq_for_cid(self.id, cid(2)) if len(events) > 1 else None
        if first is None:
            if p.fiber_count:
                raise InputError(
                    f"brain {self.name!r} already has {p.fiber_count} memories: a history is "
                    "imported into a brain without memories (a new one: --brain NEW)"
                )
            created = events[0].body
            assert isinstance(created, ev.BrainCreated)
            if p.seq == 1:
                target = self._adopt_creation(w, events[0], cid(1))
                rewrote = target.time_of(1) != p.time_of(1) or target.config != p.config
            elif created.config != p.config:
                self._append(w, p, ev.BrainConfigured(created.config), cid(1))
            offset, start = target.seq - 1, 2
        else:
            offset = first - max(h.first, 2)
            start = self._imported_prefix(w, h, offset, cid) + 1
            if start <= h.seq and w.head(self.id) != offset + start - 1:
                raise InputError(
                    f"brain {self.name!r} has changed since this history was imported into it "
                    f"(seq {offset + start} is not from it): import it into a new brain"
                )
        appended: list[ev.Envelope] = []
        incoming = events[start - h.first :]
        for env in incoming:
            body = env.body
            # redacting a history would part its texts from the words they linked
            screen = "allow" if policy == "allow" else "block"
            try:
                new, fresh = w.append(self.id, body, cid=cid(env.seq), refs=ev.touched(body),
                                      t_us=env.t, policy=screen)  # fmt: skip
            except SensitiveContentError as exc:
                from . import importing

                raise importing.refused_secret(env, exc, policy) from None
            if not fresh:
                raise InputError(f"seq {env.seq} of the history was imported out of order")
            appended.append(new)
        try:
            apply_all(target, appended)
        except IntegrityError as exc:
            raise InputError(f"the history does not replay: {exc}; nothing was imported") from None
        erased = [e.body for e in appended if isinstance(e.body, ev.MemoryErased)]
        for body in erased:
            self._redact(w, target, body)  # and what an earlier import brought in
        if rewrote or erased:
            w.put_meta(self.id, "checkpoint_floor", str(target.seq).encode())
        self._p = target
        return {
            "brain": self.name,
            "source": {"brain_id": h.source_id, "name": h.source_name, "seq": h.seq},
            "events": len(appended),
            "memories": sum(isinstance(e.body, ev.MemoryEncoded) for e in appended),
            "already_imported": start - max(h.first, 2),
            "seq": target.seq,
            "seq_offset": offset,
            "times_preserved": all(a.t == e.t for a, e in zip(appended, incoming, strict=True)),
            "rewrote": rewrote or bool(erased),
        }

    def _adopt_creation(self, w: Writer, source: ev.Envelope, cid: str) -> Projection:
        """A new brain takes the source's creation event: its recorded time and configuration
        (keeping its own name), so imported events keep their recorded times; and the import's
        client id, so a continuation from seq 2 finds where it goes on."""
        old = w.event(self.id, 1)
        assert old is not None
        assert isinstance(source.body, ev.BrainCreated)
        body = ev.BrainCreated(name=self.name, config=source.body.config)
        new = ev.Envelope(seq=1, t=source.t, cid=cid, body=body)
        if new != old:
            w.rewrite_creation(self.id, new)
        fresh = Projection(self.id)
        apply_all(fresh, (new,))
        return fresh

    def _imported_prefix(
        self, w: Writer, h: importing.History, offset: int, cid: Callable[[int], str]
    ) -> int:
        """The last seq of `h` an earlier import brought in; refuses if what is stored differs
        (a later erase in the source may have redacted records since: that is no conflict)."""
        erases = [e.body for e in h.events if isinstance(e.body, ev.MemoryErased)]
        blank = {n for body in erases for n in body.neurons}  # a word may go with another's erase
        erased = {body.fiber_id for body in erases}
        done = max(h.first - 1, 1)
        for env in h.events[1 if h.first == 1 else 0 :]:
            seq = w.seq_for_cid(self.id, cid(env.seq))
            if seq is None:
                break
            stored = w.event(self.id, seq)
            body = None if stored is None else stored.body
            touched = ev.touched(body) if body is not None else []
            same = body == env.body or (
                body is not None
                and len(touched) == 1
                and touched[0] in erased
                and lifecycle.redacted(body, blank, touched[0]) == env.body
            )
            if seq != env.seq + offset or not same:
                raise InputError(
                    f"brain {self.name!r} holds a different seq {env.seq} of brain "
                    f"{h.source_id}: this history conflicts with the one imported before"
                )
            done = env.seq
        return done

    def import_snapshot(
        self,
        data: Mapping[str, Any],
        *,
        sensitive: str | None = None,
        progress: importing.Progress | None = None,
    ) -> dict[str, Any]:
        """Add the memories of a snapshot (ours, or the original NeuralMemory's BrainSnapshot)
        to this brain, each re-encoded by this engine's encoder and keeping its id; projects
        are created first (or matched by name). Pinned and forgotten memories of our own
        snapshots stay so. Idempotent (client ids "snapshot:<memory id>"); every text passes
        the sensitive-content check (`sensitive` or the brain's policy). All or nothing."""
        from . import importing
        from .encoder import prepare

        plan = importing.parse_snapshot(data)
        policy = sensitive or self.config.sensitive_policy
        prepared: list[Prepared] = []
        for i, item in enumerate(plan.memories):
            try:
                prepared.append(prepare(item, policy))
            except InputError as exc:
                why = str(exc).replace("nothing was stored", "nothing was imported")
                if "nothing was imported" not in why:
                    why += "; nothing was imported"
                raise InputError(f"memory {item.id}: {why}") from None
            if progress is not None and i % 256 == 255:
                progress(i + 1, len(plan.memories))
        self._settle()
        room = sum(len(i.text) for i in prepared) * 8 + 4096 * len(prepared)
        try:
            out = self._write(
                lambda w, p: self._import_memories(w, p, plan, prepared, policy), room=room
            )
        except SensitiveContentError as exc:  # a tag, project, meta ... of the snapshot
            raise InputError(
                f"snapshot {exc.field}: {exc.found}; nothing was imported (the 'allow' policy "
                "imports it anyway; nmem: --force)"
            ) from None
        if progress is not None:
            progress(len(plan.memories), len(plan.memories))
        out["redacted"] = sum(
            prep.text != item.text.strip()
            for item, prep in zip(plan.memories, prepared, strict=True)
        )
        return out

    def _import_memories(
        self,
        w: Writer,
        p: Projection,
        plan: importing.SnapshotPlan,
        prepared: list[Prepared],
        policy: str,
    ) -> dict[str, Any]:
        projects: dict[str, str] = {}  # lower-case name -> id in this brain
        created = 0
        for project in plan.projects:
            key = f"snapshot:project:{project.id}"
            seq = w.seq_for_cid(self.id, key)
            stored = None if seq is None else w.event(self.id, seq)
            if stored is not None and isinstance(stored.body, ev.ProjectCreated):
                pid = stored.body.project.id
            elif (found := p.project_by_name(project.name, p.seq)) is not None:
                pid = found.id
            else:
                pid = project.id if project.id not in p.projects else uuid.uuid4().hex
                created_body = ev.ProjectCreated(msgspec.structs.replace(project, id=pid))
                self._append(w, p, created_body, key, policy)
                created += 1
            projects[project.name.lower()] = pid
        batch = [
            dataclasses.replace(prep, project=projects[item.project.lower()])
            if item.project
            else prep
            for item, prep in zip(plan.memories, prepared, strict=True)
        ]
        done = self._remember_batch(w, p, batch)
        flags = {"pinned": 0, "forgotten": 0}
        for r in done:
            state = plan.status.get(r.id)
            if r.duplicate or state not in flags:
                continue
            body: ev.Body = (
                ev.MemoryPinned(r.id)
                if state == "pinned"
                else ev.MemoryForgotten(r.id, reason="forgotten before the import")
            )
            self._append(w, p, body)
            flags[state] += 1
        return {
            "brain": self.name,
            "format": plan.kind,
            "source": {"brain_id": plan.brain_id, "name": plan.brain_name},
            "memories": sum(not r.duplicate for r in done),
            "duplicates": sum(r.duplicate for r in done),
            "projects": created,
            **flags,
            "warnings": plan.warnings,
            "seq": p.seq,
        }

    # -- time travel -------------------------------------------------------------------------------

    def at(self, when: str | int | datetime) -> BrainView:
        """The brain as it was at `when`: a seq number, a datetime, ISO text or "3 days ago"."""
        with self._lock:
            p = self._refreshed()
            now = _now(p, self.store.now())
            if isinstance(when, bool):
                raise InputError(f"cannot read {when!r} as a time")
            if isinstance(when, str) and when.strip().isdigit():
                when = int(when.strip())
            if isinstance(when, int):
                if not 0 <= when <= p.seq:
                    raise InputError(
                        f"seq {when} is out of range: brain {self.name!r} has events 1..{p.seq}"
                    )
                return BrainView(self, when, p.time_of(when) or now)
            moment = parse_when(when, now)
            if moment > now:
                raise InputError(f"{from_us(moment).isoformat()} is in the future")
            return BrainView(self, p.seq_at(moment), moment)


def _now(p: Projection, clock: int) -> int:
    """The time of a view of the whole brain: the clock, or the recorded time of the last
    event if that is later (a batch's events are recorded a microsecond apart, so they can
    run ahead of the clock), so that the view at that time is this view again."""
    return max(clock, p.time_of(p.seq))


def _require(p: Projection, fiber: int, *, not_erased: bool) -> None:
    if not_erased and p.f_flags[fiber] & ERASED:
        raise InputError(f"memory {p.f_id[fiber]} is erased")


def _flag_change(
    bit: int, on: bool, event: type[ev.MemoryPinned | ev.MemoryUnpinned | ev.MemoryRestored]
) -> Callable[[Projection, View, int], ev.Body | None]:
    def decide(p: Projection, view: View, fiber: int) -> ev.Body | None:
        _require(p, fiber, not_erased=True)
        if bool(p.f_flags[fiber] & bit) == on:
            return None
        return event(fiber_id=p.f_id[fiber])

    return decide


def _project(p: Projection, name: str) -> ev.Project:
    project = p.project_by_name(name, p.seq)
    if project is None:
        raise NotFoundError(f"no project named {name!r}")
    return project


def _name_of(env: ev.Envelope | None) -> str:
    return "" if env is None else ev.type_name(env.body)


def _remembered(stored: list[tuple[ev.Envelope, bool]]) -> list[Remembered]:
    """What each (event, duplicate) of a batch added; its links are counted in one pass."""
    bodies: list[ev.MemoryEncoded] = []
    for env, _ in stored:
        assert isinstance(env.body, ev.MemoryEncoded)
        bodies.append(env.body)
    # the targets alone: concatenating the records would promote their fields pair by pair
    links = [b.link_columns()["dst"] for b in bodies]
    counts = np.fromiter(map(len, links), dtype=np.int64, count=len(links))
    firsts = np.fromiter((b.first_neuron for b in bodies), dtype=np.int64, count=len(bodies))
    old = np.zeros(1, dtype=np.int64)  # links to neurons that existed before, cumulated
    if links:
        dst = np.concatenate(links)
        old = np.concatenate([old, np.cumsum(dst < np.repeat(firsts, counts))])
    ends = np.cumsum(counts)
    linked = (old[ends] - old[ends - counts]).tolist()
    return [
        Remembered(
            id=b.fiber_id,
            seq=env.seq,
            memory_type=_MEMORY_TYPES[b.memory_type],
            priority=b.priority,
            expires_at=None if b.expires_at in (None, NO_EXPIRY) else from_us(b.expires_at),
            neurons_created=1 + len(b.neurons),
            neurons_linked=n_linked,
            synapses_created=n_links,
            duplicate=duplicate,
        )
        for (env, duplicate), b, n_linked, n_links in zip(
            stored, bodies, linked, counts.tolist(), strict=True
        )
    ]


_MEMORY_TYPES: Final = {t.value: t for t in MemoryType}
