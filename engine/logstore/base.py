"""What every log backend is: the protocols, and the rules each one keeps.

The log is the only truth of a store; everything else (projections, checkpoints, exports)
is folded from it. A backend is one module (`lmdb.py`, the embedded default; `postgres.py`)
implementing `LogStore`, `Reader`, `Writer` and `CheckpointStore`; only that module imports
its driver, and every driver error leaves it as an `engine.errors` class. The rules, which
`tests/logstore/` checks for every backend:

- Per brain, a gap-free sequence: the n-th event appended to a brain gets seq n. Inside one
  write the head of a brain it touched cannot move (the writer holds it), so a decision made
  against the log's end is still right when it commits.
- Recorded times strictly increase with seq within a brain; an asked-for time is moved to
  just after the last one where needed. Times are microseconds in 0 <= t < 2**63.
- Append is idempotent by client id: appending a client id the brain already holds returns
  the stored event and writes nothing.
- The indexes change in the same transaction as the events: recorded time -> seq (`at=`),
  client id -> seq, memory id -> the seqs of the events that touched it.
- A reader sees one consistent snapshot of the whole store; a write is all or nothing and
  durable once `LogStore.write` returns.
- Stored events change in place only twice: a hard erase redacts a record (same seq, time and
  client id), and a history import into a brand-new brain adopts the source's creation.
- Meta values (per brain, and for the store), a registry of brains (name -> id), and tracked
  consumer positions (the last seq a named consumer has processed in a brain).
- Bad records are detected, never served: a gap, a record claiming another seq, undecodable
  bytes (DataError / IntegrityError).
- Checkpoints live beside the log (`CheckpointStore`) and are disposable caches.
"""

from __future__ import annotations

import mmap
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from itertools import chain
from operator import attrgetter
from typing import Final, TypeVar

from .. import events as ev
from .. import screening
from ..clock import now_us
from ..errors import DataError, InputError, IntegrityError

T = TypeVar("T")

MAX_ID_BYTES: Final = 470  # client ids and memory ids, UTF-8 (LMDB's keys hold 511 bytes)
MAX_TIME: Final = 2**63 - 1
# records a long read decodes and hands on at a time: few enough that their records and
# decoded events stay in cache between the two (1024 read 25-40% slower than 64 at 100k)
BATCH: Final = 64
_POSITION: Final = "position:"
_SEQ = attrgetter("seq")

Buffer = bytes | bytearray | memoryview | mmap.mmap


def check_id(text: str, what: str) -> bytes:
    """The UTF-8 bytes of a client or memory id, refused when longer than any backend keeps."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) > MAX_ID_BYTES:
        raise InputError(f"{what} is too long ({len(data)} bytes; at most {MAX_ID_BYTES})")
    return data


def check_time(t_us: int) -> int:
    if not 0 <= t_us <= MAX_TIME:
        raise InputError(f"recorded time {t_us} is out of range (0 to {MAX_TIME} µs)")
    return t_us


def gap(brain_id: str, seq: int) -> IntegrityError:
    return IntegrityError(f"log of brain {brain_id} has a gap: seq {seq} missing")


def decoded(data: bytes | memoryview, seq: int) -> ev.Envelope:
    """Decode the record stored at `seq`; one that claims another seq is corrupt."""
    env = ev.decode(data)
    if env.seq != seq:
        raise DataError(f"event at seq {seq} claims seq {env.seq}")
    return env


def decoded_batch(records: Sequence[bytes | memoryview], first: int) -> list[ev.Envelope]:
    """Decode the records stored at seqs `first`, `first + 1`, ...: `decoded` of each, with
    no Python step per record when all are sound (else the first bad one raises, as there)."""
    try:
        envs = ev.decode_many(records)
    except DataError:
        envs = []
    if list(map(_SEQ, envs)) != list(range(first, first + len(records))):
        envs = [decoded(data, seq) for seq, data in enumerate(records, start=first)]
    return envs


def batch_sizes() -> Iterator[int]:
    """Sizes of a read's successive batches: 1, 2, 4, ... then `BATCH`, so a read stopped
    after a few events (`islice`) has decoded few more than it took."""
    size = 1
    while True:
        yield size
        size = min(2 * size, BATCH)


class Reader(ABC):
    """Reads inside one transaction: a consistent snapshot of every brain."""

    @abstractmethod
    def head(self, brain_id: str) -> int:
        """The last sequence number of a brain's log (0 when empty)."""

    @abstractmethod
    def batches(
        self, brain_id: str, after: int = 0, upto: int | None = None
    ) -> Iterator[list[ev.Envelope]]:
        """Events with after < seq <= upto, in order, in lists (sizes of `batch_sizes`): a
        fold takes a list at a time, with no Python step per event to read or decode it. A
        gap or a foreign record is an error."""

    def events(
        self, brain_id: str, after: int = 0, upto: int | None = None
    ) -> Iterator[ev.Envelope]:
        """Events with after < seq <= upto, in order; a gap or a foreign record is an error."""
        return chain.from_iterable(self.batches(brain_id, after, upto))

    @abstractmethod
    def event(self, brain_id: str, seq: int) -> ev.Envelope | None: ...

    @abstractmethod
    def seq_for_cid(self, brain_id: str, cid: str) -> int | None: ...

    @abstractmethod
    def seq_at_time(self, brain_id: str, t_us: int) -> int:
        """The last seq recorded at or before `t_us` (0 if none)."""

    @abstractmethod
    def last_time(self, brain_id: str) -> int:
        """The recorded time of a brain's last event (0 when empty)."""

    @abstractmethod
    def refs(self, brain_id: str, fiber_id: str) -> list[int]:
        """Sequence numbers of the events that touched one memory, in order."""

    @abstractmethod
    def meta(self, brain_id: str | None, name: str) -> bytes | None:
        """A meta value of a brain, or of the store when `brain_id` is None."""

    @abstractmethod
    def meta_items(self, brain_id: str | None) -> dict[str, bytes]:
        """Every meta value of a brain (or of the store): name -> value (a copy takes them)."""

    @abstractmethod
    def brains(self) -> dict[str, str]:
        """Registered brains: name -> id."""

    def position(self, consumer: str, brain_id: str) -> int:
        """The last seq of `brain_id` that `consumer` recorded as processed (0: none)."""
        raw = self.meta(brain_id, _POSITION + consumer)
        return int(raw) if raw else 0


class Writer(Reader):
    """A write transaction: appends get consecutive seqs and increasing recorded times."""

    def __init__(self) -> None:
        self._heads: dict[str, tuple[int, int]] = {}  # brain -> (head, last time) so far

    def append(
        self,
        brain_id: str,
        body: ev.Body,
        *,
        cid: str | None = None,
        refs: Sequence[str] = (),
        t_us: int | None = None,
        policy: str = "block",
        cid_unused: bool = False,
    ) -> tuple[ev.Envelope, bool]:
        """Append one event: (envelope, True), or (the stored one, False) for a retried cid.
        Every string of `body` and `cid` passes the sensitive-content `policy` first
        (engine/screening.py): this is the one place every stored string goes through.
        `cid_unused`: the caller found `cid` unused in this transaction (a batch checks each
        before deciding its event), so it is not looked up again."""
        body, cid = screening.event(body, cid, policy)
        if cid is None:
            cid = os.urandom(16).hex()
        elif not cid_unused and (existing := self.seq_for_cid(brain_id, cid)) is not None:
            stored = self.event(brain_id, existing)
            if stored is None:
                raise IntegrityError(f"client id {cid!r} points at missing seq {existing}")
            return stored, False
        for fiber_id in refs:
            check_id(fiber_id, "memory id")
        head, last_t = self._heads.get(brain_id) or (self.head(brain_id), self.last_time(brain_id))
        t = check_time(max(now_us() if t_us is None else t_us, last_t + 1))
        env = ev.Envelope(seq=head + 1, t=t, cid=cid, body=body)
        self._insert(brain_id, env, refs)
        self._heads[brain_id] = (env.seq, t)
        return env, True

    def replace(self, brain_id: str, env: ev.Envelope) -> None:
        """Rewrite a stored event in place (same seq, time and client id): only a hard erase
        does this, to redact what the erased memory's events held."""
        old = self.event(brain_id, env.seq)
        if old is None or old.t != env.t or old.cid != env.cid:
            raise IntegrityError(f"cannot replace seq {env.seq}: no such event")
        self._overwrite(brain_id, env)

    def rewrite_creation(self, brain_id: str, env: ev.Envelope) -> None:
        """Replace a brain's first event, recorded time and client id included: only a history
        import into a brand-new brain does this (it adopts the source's creation), before
        anything else."""
        old = self.event(brain_id, 1)
        if old is None or env.seq != 1 or self.head(brain_id) != 1:
            raise IntegrityError("only the creation event of an otherwise empty brain is rewritten")
        if self.seq_for_cid(brain_id, env.cid) not in (None, 1):
            raise IntegrityError(f"client id {env.cid!r} is taken by another event")
        check_time(env.t)
        screening.event(env.body, env.cid, "block")
        self._recreate(brain_id, old, env)
        self._heads.pop(brain_id, None)

    def set_position(self, consumer: str, brain_id: str, seq: int) -> None:
        """Record that `consumer` has processed `brain_id` up to `seq` (in this transaction,
        so a consumer that writes to the same store moves its position with its work)."""
        if not consumer or len(consumer) > 200:
            raise InputError("a consumer is named by 1 to 200 characters")
        head = self.head(brain_id)
        if not 0 <= seq <= head:
            raise IntegrityError(f"position {seq} is outside brain {brain_id}'s log (0..{head})")
        self.put_meta(brain_id, _POSITION + consumer, str(seq).encode())

    @abstractmethod
    def _insert(self, brain_id: str, env: ev.Envelope, refs: Sequence[str]) -> None:
        """Store a new event and its index entries (time, client id, memory ids)."""

    @abstractmethod
    def _overwrite(self, brain_id: str, env: ev.Envelope) -> None:
        """Store `env` over the record of the same seq (indexes unchanged)."""

    @abstractmethod
    def _recreate(self, brain_id: str, old: ev.Envelope, new: ev.Envelope) -> None:
        """Store `new` as seq 1 over `old`, moving its time and client id index entries."""

    @abstractmethod
    def put_meta(self, brain_id: str | None, name: str, value: bytes) -> None: ...

    @abstractmethod
    def register_brain(self, name: str, brain_id: str) -> None: ...

    @abstractmethod
    def delete_brain(self, name: str, brain_id: str) -> None:
        """Remove every record of one brain and its registry entry."""


class CheckpointStore(ABC):
    """Where a backend keeps checkpoints: opaque blobs per (brain, seq), written whole or not
    at all. They are caches (engine/checkpoint.py decides what goes in and what is usable)."""

    @abstractmethod
    def seqs(self, brain_id: str) -> list[int]:
        """The seqs of a brain's checkpoints, ascending."""

    @abstractmethod
    def put(self, brain_id: str, seq: int, parts: Sequence[Buffer]) -> None:
        """Store the concatenation of `parts` as the checkpoint at `seq`, atomically."""

    @abstractmethod
    def get(self, brain_id: str, seq: int) -> Buffer:
        """The bytes of one checkpoint (may be a read-only map of a file)."""

    @abstractmethod
    def remove(self, brain_id: str, seq: int) -> None: ...

    @abstractmethod
    def brains(self) -> set[str]:
        """Ids of the brains that have checkpoints."""

    @abstractmethod
    def remove_brain(self, brain_id: str) -> None: ...

    @abstractmethod
    def name(self, brain_id: str, seq: int) -> str:
        """How to name one checkpoint in a message."""

    def remove_leftovers(self, *, exclusive: bool) -> int:
        """Remove what writers killed mid-checkpoint left behind (it may hold erased text);
        `exclusive`: no other process has the store open. Returns how many were removed."""
        return 0  # a backend that writes checkpoints in transactions leaves nothing


class LogStore(ABC):
    """One store's log: every brain's events, indexes, meta and checkpoints."""

    location: str  # for messages: a path, or a URL without its password
    read_only: bool  # opened without write access: writes are refused
    checkpoints: CheckpointStore

    @abstractmethod
    def reader(self) -> AbstractContextManager[Reader]: ...

    @abstractmethod
    def write(self, work: Callable[[Writer], T], *, room: int = 0) -> T:
        """Run `work` in one write transaction and commit it (one fsync however many events
        it appends). The backend may run `work` again in a new transaction when the first
        could not commit for a reason of its own (LMDB: the map was full and has grown), so
        `work` must start from what the writer reads. `room`: about how many bytes it will
        write, so a backend that must make room can do so first."""

    @abstractmethod
    def exclusive(self) -> AbstractContextManager[None]:
        """Hold the store alone (no other process has it open) while compacting; refused
        with OperationalError when another process uses it."""

    @abstractmethod
    def compact(self) -> tuple[int, int]:
        """Give back the space (and the bytes) of deleted and overwritten records, so erased
        content leaves the store's files. Returns the log's size before and after."""

    @abstractmethod
    def size(self) -> int:
        """Bytes the store occupies (log, indexes and checkpoints)."""

    @abstractmethod
    def wait_for_events(self, timeout: float) -> bool:
        """Block until some process commits a write to this store, at most `timeout` seconds;
        True if one did since the previous call returned (or since the first call began).
        Servers that hold projections call it to fold new events promptly."""

    @abstractmethod
    def close(self) -> None: ...
