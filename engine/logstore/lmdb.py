"""The embedded default backend: a store is a directory holding the log of all its brains in
one LMDB environment (`log/`), checkpoint files beside it (`checkpoints/`) and a `lock` file.

Keys start with the brain's 16-byte id, so each brain has its own gap-free sequence. The
indexes live in the same write transaction as the event: recorded time -> seq, client id ->
seq, memory id -> seqs. LMDB gives one writer and many readers across processes, so inside a
write the log's end cannot move; a commit is one fsync however many events it holds, and a
crash never leaves half an event.

Everything that knows LMDB is here: the key layout; map growth (ahead of a big write, and
after a full map, with the write run again); freeing reader slots of killed processes;
compaction (recovering from one that was killed); checks that refuse a data file that is
empty, truncated or not a log before LMDB maps it (a page mapped past the end of the file is
a SIGBUS, not an error); a read-only open for a store this process may not write; and the
translation of every lmdb error into `engine.errors`.
"""

from __future__ import annotations

import ctypes
import fcntl
import mmap
import os
import shutil
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any, Final

import lmdb
import numpy as np

from .. import events as ev
from ..errors import (
    DatabaseError,
    DataError,
    InputError,
    InterfaceError,
    NotFoundError,
    OperationalError,
)
from .base import (
    BATCH,
    LogStore,
    Reader,
    T,
    Writer,
    batch_sizes,
    check_id,
    decoded,
    decoded_batch,
    gap,
)
from .files import FileCheckpoints

_U64: Final = struct.Struct(">Q")
DEFAULT_MAP_SIZE: Final = 256 << 20
_DB_NAMES: Final = ("events", "times", "cids", "refs", "meta", "brains")
_STORE_META: Final = b"\x00" * 16
_POLL_S: Final = 0.05
_RELEASE: Final = 1 << 12  # records a long read decodes between two releases of the map
_SEQ_KEY: Final = np.dtype([("brain", "V16"), ("seq", ">u8")])  # a key of the events index
_STEPS: Final = np.arange(BATCH, dtype=np.uint64)

# the two meta pages at the start of data.mdb (LMDB 0.9): magic and version at offset 16 of
# the page, the page size in the free DB's md_pad (40), the last used page and txn id (136)
_META_MAGIC: Final = 0xBEEFC0DE
_META_END: Final = 152

_DAMAGED: Final = (
    lmdb.CorruptedError,
    lmdb.PageNotFoundError,
    lmdb.BadTxnError,
    lmdb.BadValsizeError,
    lmdb.InvalidError,
    lmdb.PanicError,
    lmdb.VersionMismatchError,
    lmdb.IncompatibleError,
)

# one environment per path and process (LMDB forbids opening one twice in a process)
_open_envs: dict[Path, _Env] = {}
_open_lock = threading.Lock()


class _Env:
    def __init__(self, env: lmdb.Environment, dbs: dict[str, Any], read_only: bool) -> None:
        self.env, self.dbs, self.read_only, self.users = env, dbs, read_only, 0
        # where the map lies, with the map size it was found at: only a resize moves it
        self.mapped: tuple[int, list[tuple[int, int]]] | None = None

    def release(self, data: Path) -> None:
        """Let go of every page of the map this process has resident (MADV_DONTNEED), while
        a transaction is alive (so no thread can move the map). A write descends the
        client-id and memory-id indexes (random keys) to leaves all over the data file, and
        the kernel maps each faulted page's whole folio, so a million memories written
        through one process left the whole log resident in it (a gigabyte at 1M); a replay
        reads the whole log through the map. The map is shared and never written through (no
        writemap), so letting pages go loses nothing: reading one again maps it again from
        the page cache. Where it lies is read from /proc/self/maps (by path and shared
        read-only mode, so nothing else is ever let go) once per map size: reading it takes
        milliseconds. Elsewhere, nothing is done."""
        size = self.env.info()["map_size"]
        if self.mapped is None or self.mapped[0] != size:
            self.mapped = (size, _map_spans(data))
        for lo, hi in self.mapped[1]:
            _madvise(ctypes.c_void_p(lo), ctypes.c_size_t(hi - lo), mmap.MADV_DONTNEED)


@lru_cache(maxsize=256)
def brain_key(brain_id: str) -> bytes:
    return uuid.UUID(hex=brain_id).bytes


def _seq_key(bkey: bytes, seq: int) -> bytes:
    return bkey + _U64.pack(seq)


def _seq_keys(bkey: bytes) -> Callable[[int, int], bytes]:
    """For one read: the keys of brain `bkey`'s seqs `first` to `first + k - 1` (k <= BATCH),
    as one string, written into one template (a third of the time of building each batch's)."""
    keys = np.empty(BATCH, dtype=_SEQ_KEY)
    keys["brain"] = np.void(bkey)
    seqs = keys["seq"]

    def of(first: int, k: int) -> bytes:
        seqs[:k] = _STEPS[:k] + np.uint64(first)
        return keys[:k].tobytes()

    return of


def _keys_in_order(keys: Sequence[bytes | memoryview], bkey: bytes, first: int) -> int:
    """How many of `keys` are those of seqs `first`, `first + 1`, ... of brain `bkey`."""
    return next(
        (i for i, key in enumerate(keys) if bytes(key) != _seq_key(bkey, first + i)), len(keys)
    )


def _u64(data: bytes | memoryview) -> int:
    try:
        value: int = _U64.unpack(bytes(data))[0]
    except struct.error:
        raise DataError(f"the log has a damaged key or index entry: {bytes(data)[:24]!r}") from None
    return value


def _text_key(bkey: bytes, text: str, what: str) -> bytes:
    return bkey + check_id(text, what)


def _seek_last(cur: lmdb.Cursor, prefix: bytes, key: bytes) -> bool:
    """Put `cur` on the last key <= `key` that starts with `prefix`; False if there is none."""
    if cur.set_range(key):
        if bytes(cur.key()) != key and not cur.prev():
            return False
    elif not cur.last():
        return False
    return bytes(cur.key()).startswith(prefix)


def inspect_data_file(data: Path) -> str | None:
    """Why `data` (an LMDB data.mdb) cannot hold a log, or None if it looks whole: its meta
    pages must be LMDB's and the file must reach the last page the newest one uses."""
    size = data.stat().st_size
    if size == 0:
        return "is empty"
    with open(data, "rb") as fh:
        first = fh.read(_META_END)
        if len(first) < _META_END or struct.unpack_from("<I", first, 16)[0] != _META_MAGIC:
            return "is not an LMDB data file"
        psize = struct.unpack_from("<I", first, 40)[0]
        if psize < 512 or psize & (psize - 1):
            return "has a damaged header"
        fh.seek(psize)
        second = fh.read(_META_END)
    metas = [first] + ([second] if len(second) == _META_END else [])
    valid = [m for m in metas if struct.unpack_from("<I", m, 16)[0] == _META_MAGIC]
    last_pg, _ = max((struct.unpack_from("<QQ", m, 136) for m in valid), key=lambda lt: lt[1])
    needed = (last_pg + 1) * psize
    if size < needed:
        return f"is truncated ({size} bytes; its last page ends at {needed})"
    return None


class LmdbLogStore(LogStore):
    """All brains' logs in one LMDB environment under the store directory `path`."""

    checkpoints: FileCheckpoints

    def __init__(
        self, path: Path, *, create: bool = True, map_size: int = DEFAULT_MAP_SIZE
    ) -> None:
        self.path = path.expanduser().resolve()
        self.location = str(self.path)
        self.log_path = self.path / "log"
        self._map_size = map_size
        self._closed = True
        self._lock_fd = -1
        self._seen_txn: int | None = None
        self.checkpoints = FileCheckpoints(self.path / "checkpoints")
        fresh = self._check_location(create)
        self.read_only = not fresh and not _writable(self.log_path)
        self._attach(create=create)
        self.checkpoints.writable = not self.read_only
        self._lock_fd = self._open_lock()
        if not self.read_only:
            self.checkpoints.remove_leftovers(exclusive=False)

    # -- opening ------------------------------------------------------------------------------

    def _refuse(self, why: str) -> DataError:
        return DataError(
            f"the store at {self.path} {why}: refusing to open it (restore it from a backup, "
            "or move it away to start a new store there)"
        )

    def _check_location(self, create: bool) -> bool:
        """Refuse what is not a store; True if there is no log yet (a new store)."""
        try:
            if self.path.exists() and not self.path.is_dir():
                raise InputError(f"{self.path} is a file, not a store (a store is a directory)")
            data = self.log_path / "data.mdb"
            if data.exists():
                why = inspect_data_file(data)
                if why is not None:
                    raise self._refuse(f"has a log file (log/data.mdb) that {why}")
                return False
            if (self.path / "lock").exists() or any(self.checkpoints.root.glob("*/*.ckpt")):
                raise self._refuse("has lost its log (log/data.mdb is missing)")
            if not create:
                raise NotFoundError(f"no store at {self.path}")
            self.log_path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OperationalError(f"cannot open a store at {self.path}: {_why(exc)}") from None
        return True

    def _attach(self, *, create: bool) -> None:
        with _open_lock:
            entry = _open_envs.get(self.path)
            if entry is None:
                entry = self._open_env(create=create)
                _open_envs[self.path] = entry
            entry.users += 1
        self._entry = entry
        self.env, self._dbs = entry.env, entry.dbs
        self.read_only = entry.read_only
        self._closed = False

    def _open_env(self, *, create: bool) -> _Env:
        options: dict[str, Any] = {
            "map_size": self._map_size,
            "max_dbs": len(_DB_NAMES),
            "max_readers": 512,
            "max_spare_txns": 1,
        }
        env = None
        try:
            if not self.read_only:
                try:
                    env = lmdb.open(str(self.log_path), **options)
                except lmdb.Error as exc:
                    if "Permission denied" not in str(exc):
                        raise
                    self.read_only = True  # e.g. a lock.mdb this process may not write
            if env is None:
                try:
                    env = lmdb.open(str(self.log_path), readonly=True, create=False, **options)
                except lmdb.Error as exc:  # a lock file this process may not write either:
                    if "Permission denied" not in str(exc):  # read without taking part in
                        raise  # LMDB's locking (a writer elsewhere is not seen while reading)
                    env = lmdb.open(
                        str(self.log_path), readonly=True, create=False, lock=False, **options
                    )
            else:
                env.reader_check()  # free reader slots of processes killed mid-read
            return _Env(env, self._open_dbs(env, create=create), self.read_only)
        except lmdb.Error as exc:
            if env is not None:
                env.close()
            raise self._error(exc) from None
        except DatabaseError:
            if env is not None:
                env.close()
            raise

    def _open_dbs(self, env: lmdb.Environment, *, create: bool) -> dict[str, Any]:
        with env.begin() as txn:
            names = {bytes(k) for k, _ in txn.cursor()}
        if not names:  # a data file that was created but never written: nothing to lose
            if not create or self.read_only:
                raise NotFoundError(f"no store at {self.path} (its log is empty)")
        elif b"events" not in names:
            raise self._refuse("has an LMDB file in log/ that is not a NeuralMemory log")
        if self.read_only:
            missing = [n for n in _DB_NAMES if n.encode() not in names]
            if missing:
                raise self._refuse(f"has a log without its {', '.join(missing)} index")
            return {n: env.open_db(n.encode(), create=False) for n in _DB_NAMES}
        return {n: env.open_db(n.encode()) for n in _DB_NAMES}

    def _open_lock(self) -> int:
        """Every process holds the store's lock file shared; compaction needs it alone."""
        path = self.path / "lock"
        try:
            fd = os.open(path, os.O_RDONLY if self.read_only else os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return -1  # a read-only store without a lock file: nothing to coordinate with
        fcntl.flock(fd, fcntl.LOCK_SH)
        return fd

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with _open_lock:
            entry = _open_envs.get(self.path)
            if entry is self._entry:
                entry.users -= 1
                if entry.users <= 0:
                    del _open_envs[self.path]
                    entry.env.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    # -- errors -------------------------------------------------------------------------------

    def _error(self, exc: lmdb.Error) -> DatabaseError:
        if isinstance(exc, _DAMAGED):
            return DataError(f"the log at {self.log_path} is damaged ({exc}); restore it from a "
                             "backup")  # fmt: skip
        if isinstance(exc, lmdb.MapFullError):
            return OperationalError(f"the log at {self.log_path} is full and could not grow")
        return OperationalError(f"the log at {self.log_path}: {exc}")

    def _refuse_write(self) -> None:
        if self._closed:
            raise InterfaceError("the store is closed")
        if self.read_only:
            raise OperationalError(
                f"the store at {self.path} is read-only for this process (no write permission): "
                "nothing was written"
            )

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def _txn(self, write: bool) -> Iterator[lmdb.Transaction]:
        if self._closed:
            raise InterfaceError("the store is closed")
        try:
            for attempt in range(2):
                try:
                    # readers get zero-copy buffers, valid while their transaction lives
                    txn = self.env.begin(write=True) if write else self.env.begin(buffers=True)
                    break
                except lmdb.MapResizedError:
                    if attempt:
                        raise
                    self.env.set_mapsize(0)  # another process grew the map: adopt its size
        except lmdb.Error as exc:
            raise self._error(exc) from None
        try:
            yield txn
        except lmdb.MapFullError:
            txn.abort()
            raise  # `write` grows the map and runs the work again
        except lmdb.Error as exc:
            txn.abort()
            raise self._error(exc) from None
        except BaseException:
            txn.abort()
            raise
        else:
            try:
                txn.commit()
            except lmdb.MapFullError:
                raise
            except lmdb.Error as exc:
                raise self._error(exc) from None

    @contextmanager
    def reader(self) -> Iterator[_Reader]:
        with self._txn(write=False) as txn:
            yield _Reader(self, txn)

    def write(self, work: Callable[[Writer], T], *, room: int = 0) -> T:
        self._refuse_write()
        if room:
            self._ensure_room(room)
        for attempt in range(3):
            try:
                with self._txn(write=True) as txn:
                    out = work(_Writer(self, txn))
                    self._entry.release(self.log_path / "data.mdb")  # the commit maps no page
                return out
            except lmdb.MapFullError:
                if attempt == 2:
                    raise OperationalError(f"the log at {self.log_path} is full") from None
                self._grow()
        raise AssertionError("unreachable")

    # -- map size -----------------------------------------------------------------------------

    def _grow(self) -> None:
        try:
            self.env.set_mapsize(self.env.info()["map_size"] * 2)
        except lmdb.Error as exc:
            raise self._error(exc) from None

    @property
    def map_size(self) -> int:
        size: int = self.env.info()["map_size"]
        return size

    def _ensure_room(self, needed: int) -> None:
        """Grow the map ahead of a write that would not fit, so a batch rarely fails."""
        try:
            info = self.env.info()
            used = (info["last_pgno"] + 1) * self.env.stat()["psize"]
            while info["map_size"] - used < 2 * needed + (4 << 20):
                self.env.set_mapsize(info["map_size"] * 2)
                info = self.env.info()
        except lmdb.Error as exc:
            raise self._error(exc) from None

    # -- the whole store ----------------------------------------------------------------------

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        self._refuse_write()
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OperationalError(
                "the store is in use by another process (an MCP server, a CLI call?); "
                "stop it and run compact again"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_SH)

    def compact(self) -> tuple[int, int]:
        """Rewrite the data file without its free pages, so bytes that were overwritten or
        deleted (a hard erase, a deleted brain) leave the store. The caller must hold
        `exclusive()`. A copy left by a compaction that was killed is incomplete (the data
        file is only replaced by a finished one): it is removed first."""
        self._refuse_write()
        data = self.log_path / "data.mdb"
        tmp = self.path / "log.compact"
        with _open_lock:
            if self._entry.users > 1:
                raise OperationalError("the store is open more than once in this process")
            before = data.stat().st_size
            try:
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir()
                self.env.copy(str(tmp), compact=True)
                self.env.close()
                del _open_envs[self.path]
                self._closed = True
                os.replace(tmp / "data.mdb", data)
                shutil.rmtree(tmp)
            except lmdb.Error as exc:
                raise self._error(exc) from None
            except OSError as exc:
                raise OperationalError(f"compaction failed: {_why(exc)}") from None
        self._attach(create=False)
        return before, data.stat().st_size

    def size(self) -> int:
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())

    def wait_for_events(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if self._seen_txn is None:
            self._seen_txn = self._last_txn()
        while True:
            last = self._last_txn()
            if last != self._seen_txn:
                self._seen_txn = last
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(_POLL_S, left))

    def _last_txn(self) -> int:
        try:
            txn: int = self.env.info()["last_txnid"]
        except lmdb.Error as exc:
            raise self._error(exc) from None
        return txn


_madvise = ctypes.CDLL(None, use_errno=True).madvise


def _map_spans(data: Path) -> list[tuple[int, int]]:
    """The address ranges where this process maps `data` shared and read-only."""
    try:
        with open("/proc/self/maps") as fh:
            lines = [line for line in fh if line.endswith("data.mdb\n")]
    except OSError:
        return []
    target, spans = str(data.resolve()), []
    for line in lines:
        span, perms, _, _, _, path = line.split(maxsplit=5)
        if path.rstrip("\n") == target and perms == "r--s":
            lo, hi = span.split("-")
            spans.append((int(lo, 16), int(hi, 16)))
    return spans


class _Reader(Reader):
    def __init__(self, store: LmdbLogStore, txn: lmdb.Transaction) -> None:
        self.store = store
        self.txn = txn
        self._dbs = store._dbs
        self._releases = type(self) is _Reader  # a write lets go of the map after its commit

    def head(self, brain_id: str) -> int:
        bkey = brain_key(brain_id)
        cur = self.txn.cursor(self._dbs["events"])
        return _u64(cur.key()[16:]) if _seek_last(cur, bkey, bkey + b"\xff" * 8) else 0

    def batches(
        self, brain_id: str, after: int = 0, upto: int | None = None
    ) -> Iterator[list[ev.Envelope]]:
        bkey, head = brain_key(brain_id), self.head(brain_id)
        first, last = after + 1, head if upto is None else min(upto, head)
        cur = self.txn.cursor(self._dbs["events"])
        if first > last or not cur.set_range(_seq_key(bkey, first)):
            return
        records, expected = cur.iternext(), _seq_keys(bkey)
        release, data = self._releases, self.store.log_path / "data.mdb"
        for size in batch_sizes():
            # every seq up to the head has a record: the keys read are exactly these, or a gap
            want = min(size, last - first + 1)
            pairs = list(islice(records, want))
            keys, values = zip(*pairs, strict=True) if pairs else ((), ())
            sound = b"".join(keys) == expected(first, want)
            good = len(keys) if sound else _keys_in_order(keys, bkey, first)
            batch, end = decoded_batch(values[:good], first), first + good - 1
            # every _RELEASE records and at the end of a long read, with the transaction alive
            crossed = end // _RELEASE > (first - 1) // _RELEASE
            if release and (crossed or (end == last and end - after > _RELEASE)):
                self.store._entry.release(data)
            if batch:
                yield batch
            first += good
            if not sound:
                raise gap(brain_id, first)
            if first > last:
                return

    def event(self, brain_id: str, seq: int) -> ev.Envelope | None:
        value = self.txn.get(_seq_key(brain_key(brain_id), seq), db=self._dbs["events"])
        return None if value is None else decoded(value, seq)

    def seq_for_cid(self, brain_id: str, cid: str) -> int | None:
        value = self.txn.get(_text_key(brain_key(brain_id), cid, "client id"), db=self._dbs["cids"])
        return None if value is None else _u64(value)

    def seq_at_time(self, brain_id: str, t_us: int) -> int:
        bkey = brain_key(brain_id)
        cur = self.txn.cursor(self._dbs["times"])
        probe = bkey + _U64.pack(min(max(t_us, 0), 2**64 - 1))
        return _u64(cur.value()) if _seek_last(cur, bkey, probe) else 0

    def last_time(self, brain_id: str) -> int:
        bkey = brain_key(brain_id)
        cur = self.txn.cursor(self._dbs["times"])
        return _u64(cur.key()[16:]) if _seek_last(cur, bkey, bkey + b"\xff" * 8) else 0

    def refs(self, brain_id: str, fiber_id: str) -> list[int]:
        prefix = _text_key(brain_key(brain_id), fiber_id, "memory id") + b"\x00"
        cur = self.txn.cursor(self._dbs["refs"])
        out: list[int] = []
        if not cur.set_range(prefix):
            return out
        for key, _ in cur:
            if not bytes(key).startswith(prefix):
                break
            out.append(_u64(key[len(prefix) :]))
        return out

    def meta(self, brain_id: str | None, name: str) -> bytes | None:
        prefix = brain_key(brain_id) if brain_id else _STORE_META
        value = self.txn.get(prefix + name.encode(), db=self._dbs["meta"])
        return None if value is None else bytes(value)

    def meta_items(self, brain_id: str | None) -> dict[str, bytes]:
        prefix = brain_key(brain_id) if brain_id else _STORE_META
        cur = self.txn.cursor(self._dbs["meta"])
        out: dict[str, bytes] = {}
        if not cur.set_range(prefix):
            return out
        for key, value in cur:
            if not bytes(key).startswith(prefix):
                break
            out[bytes(key[len(prefix) :]).decode()] = bytes(value)
        return out

    def brains(self) -> dict[str, str]:
        cur = self.txn.cursor(self._dbs["brains"])
        try:
            return {bytes(k).decode(): bytes(v).decode() for k, v in cur}
        except UnicodeDecodeError:
            raise DataError("the log's brain registry is damaged") from None


class _Writer(_Reader, Writer):
    def __init__(self, store: LmdbLogStore, txn: lmdb.Transaction) -> None:
        _Reader.__init__(self, store, txn)
        Writer.__init__(self)

    def _insert(self, brain_id: str, env: ev.Envelope, refs: Sequence[str]) -> None:
        bkey, put, dbs = brain_key(brain_id), self.txn.put, self._dbs
        seq = _U64.pack(env.seq)
        put(bkey + seq, ev.encode(env), db=dbs["events"])
        put(bkey + _U64.pack(env.t), seq, db=dbs["times"])
        put(_text_key(bkey, env.cid, "client id"), seq, db=dbs["cids"])
        for fiber_id in refs:
            put(_text_key(bkey, fiber_id, "memory id") + b"\x00" + seq, b"", db=dbs["refs"])

    def _overwrite(self, brain_id: str, env: ev.Envelope) -> None:
        self.txn.put(_seq_key(brain_key(brain_id), env.seq), ev.encode(env), db=self._dbs["events"])

    def _recreate(self, brain_id: str, old: ev.Envelope, new: ev.Envelope) -> None:
        bkey, txn, dbs = brain_key(brain_id), self.txn, self._dbs
        one = _U64.pack(1)
        txn.delete(bkey + _U64.pack(old.t), db=dbs["times"])
        txn.put(bkey + _U64.pack(new.t), one, db=dbs["times"])
        txn.delete(_text_key(bkey, old.cid, "client id"), db=dbs["cids"])
        txn.put(_text_key(bkey, new.cid, "client id"), one, db=dbs["cids"])
        txn.put(bkey + one, ev.encode(new), db=dbs["events"])

    def put_meta(self, brain_id: str | None, name: str, value: bytes) -> None:
        prefix = brain_key(brain_id) if brain_id else _STORE_META
        self.txn.put(prefix + name.encode(), value, db=self._dbs["meta"])

    def register_brain(self, name: str, brain_id: str) -> None:
        self.txn.put(name.encode(), brain_id.encode(), db=self._dbs["brains"])

    def delete_brain(self, name: str, brain_id: str) -> None:
        """Every record of one brain goes (its bytes stay in free pages until compaction)."""
        bkey = brain_key(brain_id)
        for db in ("events", "times", "cids", "refs", "meta"):
            cur = self.txn.cursor(self._dbs[db])
            if cur.set_range(bkey):
                while bytes(cur.key()).startswith(bkey):
                    if not cur.delete():
                        break
        self.txn.delete(name.encode(), db=self._dbs["brains"])
        self._heads.pop(brain_id, None)


def _writable(log_path: Path) -> bool:
    data = log_path / "data.mdb"
    return os.access(log_path, os.W_OK) and os.access(data, os.W_OK)


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)
