"""The event log on LMDB: the only source of truth of a store.

One LMDB environment holds every brain of a store. Keys start with the brain's 16-byte id so
each brain has its own gap-free sequence. Indexes live in the same write transaction as the
event, so they are never out of step: recorded time -> seq (for `at=`), client id -> seq
(idempotent append), memory id -> seqs (history of one memory). LMDB gives one writer and
many readers across processes; a commit is one fsync however many events it holds (group
commit), and a crash never leaves half an event.
"""

from __future__ import annotations

import os
import struct
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import lmdb

from . import events as ev
from .clock import now_us
from .errors import DataError, IntegrityError, InterfaceError, OperationalError

_U64: Final = struct.Struct(">Q")
_MAX_KEY: Final = 500  # LMDB's default maximum key size is 511 bytes
DEFAULT_MAP_SIZE: Final = 256 << 20
_DB_NAMES: Final = ("events", "times", "cids", "refs", "meta", "brains")

_open_envs: dict[Path, tuple[lmdb.Environment, int]] = {}
_open_lock = threading.Lock()


@lru_cache(maxsize=256)
def brain_key(brain_id: str) -> bytes:
    return uuid.UUID(hex=brain_id).bytes


def _seq_key(bkey: bytes, seq: int) -> bytes:
    return bkey + _U64.pack(seq)


def _u64(data: bytes | memoryview) -> int:
    value: int = _U64.unpack(bytes(data))[0]
    return value


def _seek_last(cur: lmdb.Cursor, prefix: bytes, key: bytes) -> bool:
    """Put `cur` on the last key <= `key` that starts with `prefix`; False if there is none."""
    if cur.set_range(key):
        if bytes(cur.key()) != key and not cur.prev():
            return False
    elif not cur.last():
        return False
    return bytes(cur.key()).startswith(prefix)


def _text_key(bkey: bytes, text: str, what: str) -> bytes:
    key = bkey + text.encode("utf-8")
    if len(key) > _MAX_KEY:
        raise OperationalError(f"{what} too long ({len(text)} characters)")
    return key


class EventLog:
    """All brains' logs in one LMDB environment at `path` (a directory)."""

    def __init__(self, path: Path, *, map_size: int = DEFAULT_MAP_SIZE) -> None:
        self.path = path.resolve()
        with _open_lock:
            entry = _open_envs.get(self.path)
            if entry is None:
                path.mkdir(parents=True, exist_ok=True)
                try:
                    env = lmdb.open(
                        str(self.path),
                        map_size=map_size,
                        max_dbs=len(_DB_NAMES),
                        max_readers=512,
                        max_spare_txns=1,
                    )
                except lmdb.Error as exc:
                    raise OperationalError(f"cannot open store at {self.path}: {exc}") from exc
                env.reader_check()  # free reader slots of processes killed mid-read
                entry = (env, 0)
            env, users = entry
            _open_envs[self.path] = (env, users + 1)
        self.env = env
        self._dbs = {name: env.open_db(name.encode()) for name in _DB_NAMES}
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with _open_lock:
            env, users = _open_envs[self.path]
            if users <= 1:
                del _open_envs[self.path]
                env.close()
            else:
                _open_envs[self.path] = (env, users - 1)

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def _txn(self, write: bool) -> Iterator[lmdb.Transaction]:
        if self._closed:
            raise InterfaceError("the store is closed")
        for attempt in range(2):
            try:
                # readers get zero-copy buffers, valid while their transaction lives
                txn = self.env.begin(write=True) if write else self.env.begin(buffers=True)
                break
            except lmdb.MapResizedError:
                if attempt:
                    raise
                self.env.set_mapsize(0)  # another process grew the map: adopt its size
        try:
            yield txn
        except BaseException:
            txn.abort()
            raise
        else:
            try:
                txn.commit()
            except lmdb.MapFullError:
                raise
            except lmdb.Error as exc:
                raise OperationalError(f"commit failed: {exc}") from exc

    @contextmanager
    def reader(self) -> Iterator[Reader]:
        with self._txn(write=False) as txn:
            yield Reader(self, txn)

    @contextmanager
    def writer(self) -> Iterator[Writer]:
        """One write transaction, committed (one fsync) when the block exits cleanly.

        LMDB serialises writers across processes, so inside the block the log's end cannot
        move: callers catch their projection up, decide, and append against a fixed head.
        """
        try:
            with self._txn(write=True) as txn:
                yield Writer(self, txn)
        except lmdb.MapFullError:
            self.grow()
            raise

    def grow(self) -> None:
        size = self.env.info()["map_size"]
        self.env.set_mapsize(size * 2)

    @property
    def map_size(self) -> int:
        size: int = self.env.info()["map_size"]
        return size

    def ensure_room(self, needed: int) -> None:
        """Grow the map ahead of a write that would not fit, so a batch rarely fails."""
        info = self.env.info()
        used = (info["last_pgno"] + 1) * self.env.stat()["psize"]
        while info["map_size"] - used < 2 * needed + (4 << 20):
            self.env.set_mapsize(info["map_size"] * 2)
            info = self.env.info()

    def compact(self) -> tuple[int, int]:
        """Rewrite the data file without its free pages, so bytes that were overwritten or
        deleted (a hard erase, a deleted brain) leave the store. The caller must hold the
        store exclusively. Returns the file size before and after."""
        with _open_lock:
            env, users = _open_envs[self.path]
            if users > 1:
                raise OperationalError("the store is open more than once in this process")
            data = self.path / "data.mdb"
            before = data.stat().st_size
            tmp = self.path.with_name(self.path.name + ".compact")
            tmp.mkdir(exist_ok=True)
            env.copy(str(tmp), compact=True)
            env.close()
            del _open_envs[self.path]
            os.replace(tmp / "data.mdb", data)
            for leftover in tmp.iterdir():
                leftover.unlink()
            tmp.rmdir()
            self._closed = True
        reopened = EventLog(self.path)
        self.env, self._dbs, self._closed = reopened.env, reopened._dbs, False
        return before, data.stat().st_size

    def delete_brain(self, name: str, brain_id: str) -> None:
        """Remove every record of one brain (its bytes stay in free pages until compaction)."""
        bkey = brain_key(brain_id)
        with self.writer() as w:
            for db in ("events", "times", "cids", "refs", "meta"):
                cur = w.txn.cursor(self._dbs[db])
                if cur.set_range(bkey):
                    while bytes(cur.key()).startswith(bkey):
                        if not cur.delete():
                            break
            w.txn.delete(name.encode(), db=self._dbs["brains"])

    def sync(self) -> None:
        self.env.sync(True)


class Reader:
    """Reads inside one transaction: a consistent snapshot of every brain."""

    def __init__(self, log: EventLog, txn: lmdb.Transaction) -> None:
        self.log = log
        self.txn = txn

    def _db(self, name: str) -> Any:
        return self.log._dbs[name]

    def head(self, brain_id: str) -> int:
        """The last sequence number of a brain's log (0 when empty)."""
        bkey = brain_key(brain_id)
        cur = self.txn.cursor(self._db("events"))
        return _u64(cur.key()[16:]) if _seek_last(cur, bkey, bkey + b"\xff" * 8) else 0

    def events(
        self, brain_id: str, after: int = 0, upto: int | None = None
    ) -> Iterator[ev.Envelope]:
        """Events with after < seq <= upto, in order; a gap or a foreign record is an error."""
        bkey = brain_key(brain_id)
        cur = self.txn.cursor(self._db("events"))
        expected = after + 1
        last = 2**64 - 1 if upto is None else upto
        if expected > last or not cur.set_range(_seq_key(bkey, expected)):
            return
        pack, decode = _U64.pack, ev.decode
        for key, value in cur:
            if key != bkey + pack(expected):  # one comparison checks the brain and the seq
                if bytes(key[:16]) != bkey or _u64(key[16:]) > last:
                    return
                raise IntegrityError(f"log of brain {brain_id} has a gap: seq {expected} missing")
            env = decode(value)
            if env.seq != expected:
                raise DataError(f"event at seq {expected} claims seq {env.seq}")
            yield env
            if expected == last:
                return
            expected += 1

    def event(self, brain_id: str, seq: int) -> ev.Envelope | None:
        value = self.txn.get(_seq_key(brain_key(brain_id), seq), db=self._db("events"))
        return None if value is None else ev.decode(value)

    def seq_for_cid(self, brain_id: str, cid: str) -> int | None:
        value = self.txn.get(_text_key(brain_key(brain_id), cid, "client id"), db=self._db("cids"))
        return None if value is None else _u64(value)

    def seq_at_time(self, brain_id: str, t_us: int) -> int:
        """The last seq recorded at or before `t_us` (0 if none)."""
        bkey = brain_key(brain_id)
        cur = self.txn.cursor(self._db("times"))
        probe = bkey + _U64.pack(min(max(t_us, 0), 2**64 - 1))
        return _u64(cur.value()) if _seek_last(cur, bkey, probe) else 0

    def last_time(self, brain_id: str) -> int:
        bkey = brain_key(brain_id)
        cur = self.txn.cursor(self._db("times"))
        return _u64(cur.key()[16:]) if _seek_last(cur, bkey, bkey + b"\xff" * 8) else 0

    def refs(self, brain_id: str, fiber_id: str) -> list[int]:
        """Sequence numbers of the events that touched one memory, in order."""
        prefix = _text_key(brain_key(brain_id), fiber_id, "memory id") + b"\x00"
        cur = self.txn.cursor(self._db("refs"))
        out: list[int] = []
        if not cur.set_range(prefix):
            return out
        for key, _ in cur:
            if not bytes(key).startswith(prefix):
                break
            out.append(_u64(key[len(prefix) :]))
        return out

    def meta(self, brain_id: str | None, name: str) -> bytes | None:
        prefix = brain_key(brain_id) if brain_id else b"\x00" * 16
        value = self.txn.get(prefix + name.encode(), db=self._db("meta"))
        return None if value is None else bytes(value)

    def brains(self) -> dict[str, str]:
        """Registered brains: name -> id."""
        cur = self.txn.cursor(self._db("brains"))
        return {bytes(k).decode(): bytes(v).decode() for k, v in cur}


class Writer(Reader):
    """A write transaction: appends get consecutive seqs and monotonic recorded times."""

    def __init__(self, log: EventLog, txn: lmdb.Transaction) -> None:
        super().__init__(log, txn)
        self._heads: dict[str, tuple[int, int]] = {}

    def append(
        self,
        brain_id: str,
        body: ev.Body,
        *,
        cid: str | None = None,
        refs: Sequence[str] = (),
        t_us: int | None = None,
    ) -> tuple[ev.Envelope, bool]:
        """Append one event: (envelope, True), or (the stored one, False) for a retried cid."""
        if cid is not None:
            existing = self.seq_for_cid(brain_id, cid)
            if existing is not None:
                stored = self.event(brain_id, existing)
                if stored is None:
                    raise IntegrityError(f"client id {cid!r} points at missing seq {existing}")
                return stored, False
        else:
            cid = os.urandom(16).hex()
        bkey = brain_key(brain_id)
        head, last_t = self._heads.get(brain_id) or (self.head(brain_id), self.last_time(brain_id))
        seq = head + 1
        t = max(now_us() if t_us is None else t_us, last_t + 1)
        env = ev.Envelope(seq=seq, t=t, cid=cid, body=body)
        self.txn.put(_seq_key(bkey, seq), ev.encode(env), db=self._db("events"), append=False)
        self.txn.put(bkey + _U64.pack(t), _U64.pack(seq), db=self._db("times"))
        self.txn.put(_text_key(bkey, cid, "client id"), _U64.pack(seq), db=self._db("cids"))
        for fiber_id in refs:
            key = _text_key(bkey, fiber_id, "memory id") + b"\x00" + _U64.pack(seq)
            self.txn.put(key, b"", db=self._db("refs"))
        self._heads[brain_id] = (seq, t)
        return env, True

    def replace(self, brain_id: str, env: ev.Envelope) -> None:
        """Rewrite a stored event in place (same seq, time and client id): only a hard erase
        does this, to redact what the erased memory's events held."""
        key = _seq_key(brain_key(brain_id), env.seq)
        old = self.txn.get(key, db=self._db("events"))
        if old is None or ev.decode(old).t != env.t:
            raise IntegrityError(f"cannot replace seq {env.seq}: no such event")
        self.txn.put(key, ev.encode(env), db=self._db("events"))

    def rewrite_creation(self, brain_id: str, env: ev.Envelope) -> None:
        """Replace a brain's first event, recorded time and client id included: only a history
        import into a brand-new brain does this (it adopts the source's creation), before
        anything else."""
        old = self.event(brain_id, 1)
        if old is None or env.seq != 1 or self.head(brain_id) != 1:
            raise IntegrityError("only the creation event of an otherwise empty brain is rewritten")
        if self.seq_for_cid(brain_id, env.cid) not in (None, 1):
            raise IntegrityError(f"client id {env.cid!r} is taken by another event")
        bkey = brain_key(brain_id)
        self.txn.delete(bkey + _U64.pack(old.t), db=self._db("times"))
        self.txn.put(bkey + _U64.pack(env.t), _U64.pack(1), db=self._db("times"))
        self.txn.delete(_text_key(bkey, old.cid, "client id"), db=self._db("cids"))
        self.txn.put(_text_key(bkey, env.cid, "client id"), _U64.pack(1), db=self._db("cids"))
        self.txn.put(_seq_key(bkey, 1), ev.encode(env), db=self._db("events"))
        self._heads.pop(brain_id, None)

    def put_meta(self, brain_id: str | None, name: str, value: bytes) -> None:
        prefix = brain_key(brain_id) if brain_id else b"\x00" * 16
        self.txn.put(prefix + name.encode(), value, db=self._db("meta"))

    def register_brain(self, name: str, brain_id: str) -> None:
        self.txn.put(name.encode(), brain_id.encode(), db=self._db("brains"))
