"""The PostgreSQL backend (psycopg 3): a store is a database (and the first schema on its
search path) holding the log of all its brains, for several processes and machines on one log.

Tables: `nmem_events` (brain, seq, t, cid, record) with primary key (brain, seq) and unique
(brain, cid) and (brain, t) — the recorded-time index —; `nmem_refs` (memory id -> seqs);
`nmem_meta` (per brain, and for the store under the nil uuid: positions live here too);
`nmem_brains` (the registry); `nmem_checkpoints` (checkpoints in parts of at most 64 MiB, one
transaction each, so they are whole or absent, and disposable like the files of LMDB).

The head of a brain cannot move inside one writer because the writer takes a transaction-level
advisory lock on the brain (`pg_advisory_xact_lock`) the first time it touches it, before it
reads anything of it, at READ COMMITTED: every later statement then sees every commit made
before the lock was granted, and no other writer can append to that brain until this one ends.
That is the semantics the engine's writes rely on (catch up, decide against the end of the log,
append), as with LMDB's single writer. A unique-violation retry would instead let two writers
decide against the same head and make the loser re-run its whole decision (re-folding and
re-encoding a batch of a thousand memories) whenever writers meet; with the lock they queue
once. The unique (brain, seq) key stays as the guard: nothing can fork a brain's sequence. A
writer that touches two brains in opposite orders to another is told so by PostgreSQL's
deadlock detector, and its work is run again (as LMDB runs it again after growing the map).

Readers are REPEATABLE READ, READ ONLY transactions: one snapshot of the whole store.
A commit that appended, rewrote or deleted events sends NOTIFY on the store's channel, and
`wait_for_events` LISTENs on it, so a server holding projections learns of another process's
commit at once instead of polling.

psycopg is imported only when a `postgresql://` store is opened; every psycopg error leaves this
module as an `engine.errors` class.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from itertools import islice
from typing import Any, Final

import psycopg
from psycopg import errors as pg
from psycopg import sql

from .. import events as ev
from ..errors import (
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    NotFoundError,
    OperationalError,
)
from .base import (
    MAX_TIME,
    Buffer,
    CheckpointStore,
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

_STORE: Final = uuid.UUID(int=0)  # the brain id of the store's own meta values
_LOCK_CLASS: Final = 0x6E6D656D  # 'nmem': advisory locks of this backend
_CHECKPOINT_LOCK_CLASS: Final = 0x6E6D636B  # 'nmck': one checkpoint writer per brain at a time
_SCHEMA_LOCK: Final = -1
_REGISTRY_LOCK: Final = 0
_PART: Final = 64 << 20
_FETCH: Final = 4096
_RETRIES: Final = 5

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS nmem_events (
    brain uuid NOT NULL, seq bigint NOT NULL, t bigint NOT NULL, cid text NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (brain, seq), UNIQUE (brain, cid), UNIQUE (brain, t));
CREATE TABLE IF NOT EXISTS nmem_refs (
    brain uuid NOT NULL, fiber text NOT NULL, seq bigint NOT NULL,
    PRIMARY KEY (brain, fiber, seq));
CREATE TABLE IF NOT EXISTS nmem_meta (
    brain uuid NOT NULL, name text NOT NULL, value bytea NOT NULL, PRIMARY KEY (brain, name));
CREATE TABLE IF NOT EXISTS nmem_brains (name text PRIMARY KEY, id uuid NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS nmem_checkpoints (
    brain uuid NOT NULL, seq bigint NOT NULL, part int NOT NULL, data bytea NOT NULL,
    PRIMARY KEY (brain, seq, part));
"""
TABLES: Final = ("nmem_events", "nmem_refs", "nmem_meta", "nmem_brains", "nmem_checkpoints")

_SECRET = re.compile(r"(://[^:/@]*:)[^@]*@|(password=)[^&\s]*")


def shown(url: str) -> str:
    """A URL for messages: its password replaced by ***."""
    return _SECRET.sub(lambda m: f"{m.group(1)}***@" if m.group(1) else f"{m.group(2)}***", url)


@lru_cache(maxsize=256)
def _uid(brain_id: str) -> uuid.UUID:
    return uuid.UUID(hex=brain_id)


def _lock_id(brain_id: str) -> int:
    return int.from_bytes(_uid(brain_id).bytes[:4], "big", signed=True)


class PostgresLogStore(LogStore):
    checkpoints: PostgresCheckpoints

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = url
        self.location = shown(url)
        self._idle: list[psycopg.Connection[Any]] = []
        self._pool_lock = threading.Lock()
        self._listener: psycopg.Connection[Any] | None = None
        self._relisten = False  # the listener failed: the next wait reports possible news
        self._closed = False
        self.checkpoints = PostgresCheckpoints(self)
        with self._conn() as conn, self._translated():
            exists = conn.execute("SELECT to_regclass('nmem_events') IS NOT NULL").fetchone()
            if not (exists and exists[0]):
                if not create:
                    raise NotFoundError(f"no store at {self.location} (no NeuralMemory tables)")
                with conn.transaction():
                    lock = (_LOCK_CLASS, _SCHEMA_LOCK)  # two processes creating it at once
                    conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", lock)
                    conn.execute(SCHEMA)
            row = conn.execute(
                "SELECT current_schema(), pg_is_in_recovery(), "
                "has_table_privilege('nmem_events', 'INSERT')"
            ).fetchone()
        assert row is not None
        schema, standby, may_insert = row
        self.channel = f"nmem.{schema}"
        self.read_only = bool(standby) or not may_insert

    # -- connections and errors ---------------------------------------------------------------

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection of this store's own (in autocommit mode: transactions are explicit),
        from the idle ones or new; threads and nested uses each get their own."""
        if self._closed:
            raise InterfaceError("the store is closed")
        with self._pool_lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.close()
            else:
                with self._pool_lock:
                    self._idle.append(conn)

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self.url, autocommit=True)
        except psycopg.Error as exc:
            raise self._error(exc) from None

    def _error(self, exc: psycopg.Error) -> Error:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, pg.InvalidCatalogName):
            return NotFoundError(f"no store at {self.location}: {text}")
        if isinstance(exc, pg.ReadOnlySqlTransaction | pg.InsufficientPrivilege):
            return OperationalError(
                f"the store at {self.location} is read-only for this process ({text}): "
                "nothing was written"
            )
        if isinstance(exc, psycopg.IntegrityError):
            return IntegrityError(f"the log at {self.location} refused a record: {text}")
        if isinstance(exc, psycopg.DataError):
            return DataError(f"the log at {self.location} holds bad data: {text}")
        if isinstance(exc, pg.ConnectionFailure | psycopg.OperationalError):
            return OperationalError(f"cannot use the store at {self.location}: {text}")
        return OperationalError(f"the store at {self.location}: {text}")

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            raise self._error(exc) from None

    def _refuse_write(self) -> None:
        if self.read_only:
            raise OperationalError(
                f"the store at {self.location} is read-only for this process (a standby, or no "
                "INSERT privilege): nothing was written"
            )

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def reader(self) -> Iterator[_Reader]:
        with self._conn() as conn, self._translated():
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield _Reader(self, conn)
            finally:
                _rollback(conn)

    def write(self, work: Callable[[Writer], T], *, room: int = 0) -> T:
        self._refuse_write()
        for attempt in range(_RETRIES):
            with self._conn() as conn:
                try:
                    conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
                    w = _Writer(self, conn)
                    out = work(w)
                    w.finish()
                    conn.execute("COMMIT")
                    return out
                except (pg.DeadlockDetected, pg.SerializationFailure):
                    _rollback(conn)
                    if attempt == _RETRIES - 1:
                        raise OperationalError(
                            f"the store at {self.location} is too busy: the write met "
                            f"{_RETRIES} deadlocks"
                        ) from None
                except psycopg.Error as exc:
                    _rollback(conn)
                    raise self._error(exc) from None
                except BaseException:
                    _rollback(conn)
                    raise
        raise AssertionError("unreachable")

    # -- the whole store ----------------------------------------------------------------------

    def exclusive(self) -> nullcontext[None]:
        """Nothing to hold: VACUUM FULL takes the locks it needs table by table, and other
        processes may keep the store open while it runs."""
        self._refuse_write()
        return nullcontext()

    def compact(self) -> tuple[int, int]:
        """VACUUM FULL every table: rows that were deleted or overwritten (an erase's
        redaction, a deleted brain, old checkpoints) leave the tables' files."""
        self._refuse_write()
        before = self.size()
        with self._conn() as conn, self._translated():
            for table in TABLES:
                conn.execute(sql.SQL("VACUUM FULL {}").format(sql.Identifier(table)))
        return before, self.size()

    def size(self) -> int:
        with self._conn() as conn, self._translated():
            row = conn.execute(
                "SELECT sum(pg_total_relation_size(to_regclass(t)))::bigint "
                "FROM unnest(%s::text[]) t",
                (list(TABLES),),
            ).fetchone()
        return int(row[0] or 0) if row else 0

    def wait_for_events(self, timeout: float) -> bool:
        """A listener connection that fails is dropped, and the call after it reconnects and
        answers True at once: commits made while it was down sent notifications nobody got."""
        try:
            if self._listener is None:
                self._listener = self._connect()
                self._listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                if self._relisten:
                    self._relisten = False
                    return True
            deadline = time.monotonic() + timeout
            got = False
            while not got and (left := deadline - time.monotonic()) > 0:
                got = any(True for _ in self._listener.notifies(timeout=left, stop_after=1))
            if got:  # what else is queued came before this return: it is not news
                for _ in self._listener.notifies(timeout=0.001):
                    pass
            return got
        except psycopg.Error as exc:
            if self._listener is not None:
                self._listener.close()
                self._listener, self._relisten = None, True
            raise self._error(exc) from None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._pool_lock:
            idle, self._idle = self._idle, []
        for conn in [*idle, *([self._listener] if self._listener else [])]:
            conn.close()
        self._listener = None


def _rollback(conn: psycopg.Connection[Any]) -> None:
    if not conn.closed:
        try:
            conn.execute("ROLLBACK")
        except psycopg.Error:
            conn.close()


class _Reader(Reader):
    def __init__(self, store: PostgresLogStore, conn: psycopg.Connection[Any]) -> None:
        self.store = store
        self.conn = conn

    def _touch(self, brain_id: str | None) -> None:
        """Called before a brain is read or written (a writer takes its lock here)."""

    def _one(self, query: str, params: Sequence[Any]) -> Any:
        row = self.conn.execute(query, params).fetchone()
        return None if row is None else row[0]

    def head(self, brain_id: str) -> int:
        self._touch(brain_id)
        seq = self._one("SELECT max(seq) FROM nmem_events WHERE brain = %s", (_uid(brain_id),))
        return int(seq or 0)

    def batches(
        self, brain_id: str, after: int = 0, upto: int | None = None
    ) -> Iterator[list[ev.Envelope]]:
        self._touch(brain_id)
        last = MAX_TIME if upto is None else upto
        if after >= last:
            return
        first = after + 1
        with self.conn.cursor(name=f"events_{uuid.uuid4().hex}", binary=True) as cur:
            cur.itersize = _FETCH
            cur.execute(
                "SELECT seq, record FROM nmem_events WHERE brain = %s AND seq > %s AND seq <= %s "
                "ORDER BY seq",
                (_uid(brain_id), after, last),
            )
            rows = iter(cur)
            for size in batch_sizes():
                pairs = list(islice(rows, size))
                seqs, records = zip(*pairs, strict=True) if pairs else ((), ())
                good = next((i for i, seq in enumerate(seqs) if seq != first + i), len(seqs))
                batch = decoded_batch(records[:good], first)
                if batch:
                    yield batch
                if good < len(seqs):
                    raise gap(brain_id, first + good)
                first += good
                if len(pairs) < size:
                    return

    def event(self, brain_id: str, seq: int) -> ev.Envelope | None:
        self._touch(brain_id)
        record = self._one(
            "SELECT record FROM nmem_events WHERE brain = %s AND seq = %s", (_uid(brain_id), seq)
        )
        return None if record is None else decoded(record, seq)

    def seq_for_cid(self, brain_id: str, cid: str) -> int | None:
        check_id(cid, "client id")
        self._touch(brain_id)
        seq = self._one(
            "SELECT seq FROM nmem_events WHERE brain = %s AND cid = %s", (_uid(brain_id), cid)
        )
        return None if seq is None else int(seq)

    def seq_at_time(self, brain_id: str, t_us: int) -> int:
        self._touch(brain_id)
        seq = self._one(
            "SELECT seq FROM nmem_events WHERE brain = %s AND t <= %s ORDER BY t DESC LIMIT 1",
            (_uid(brain_id), min(max(t_us, -1), MAX_TIME)),
        )
        return int(seq or 0)

    def last_time(self, brain_id: str) -> int:
        self._touch(brain_id)
        t = self._one(
            "SELECT t FROM nmem_events WHERE brain = %s ORDER BY seq DESC LIMIT 1",
            (_uid(brain_id),),
        )
        return int(t or 0)

    def refs(self, brain_id: str, fiber_id: str) -> list[int]:
        check_id(fiber_id, "memory id")
        self._touch(brain_id)
        rows = self.conn.execute(
            "SELECT seq FROM nmem_refs WHERE brain = %s AND fiber = %s ORDER BY seq",
            (_uid(brain_id), fiber_id),
        ).fetchall()
        return [int(seq) for (seq,) in rows]

    def meta(self, brain_id: str | None, name: str) -> bytes | None:
        self._touch(brain_id)
        value = self._one(
            "SELECT value FROM nmem_meta WHERE brain = %s AND name = %s",
            (_uid(brain_id) if brain_id else _STORE, name),
        )
        return None if value is None else bytes(value)

    def meta_items(self, brain_id: str | None) -> dict[str, bytes]:
        self._touch(brain_id)
        rows = self.conn.execute(
            "SELECT name, value FROM nmem_meta WHERE brain = %s ORDER BY name",
            (_uid(brain_id) if brain_id else _STORE,),
        ).fetchall()
        return {name: bytes(value) for name, value in rows}

    def brains(self) -> dict[str, str]:
        self._touch(None)
        rows = self.conn.execute("SELECT name, id FROM nmem_brains ORDER BY name").fetchall()
        return {name: bid.hex for name, bid in rows}


class _Writer(_Reader, Writer):
    """Appends are buffered and sent in one pipeline before anything reads the events table
    again and at commit, so a batch of a thousand memories is not a thousand round trips."""

    def __init__(self, store: PostgresLogStore, conn: psycopg.Connection[Any]) -> None:
        _Reader.__init__(self, store, conn)
        Writer.__init__(self)
        self._held: set[int] = set()
        self._events: list[tuple[uuid.UUID, int, int, str, bytes]] = []
        self._refs: list[tuple[uuid.UUID, str, int]] = []
        self._pending: dict[tuple[str, str], int] = {}  # (brain, cid) -> seq, not yet sent
        self._pending_env: dict[tuple[str, int], ev.Envelope] = {}
        self._changed = False

    def _touch(self, brain_id: str | None) -> None:
        key = _REGISTRY_LOCK if brain_id is None else _lock_id(brain_id)
        if key not in self._held:
            self.conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_CLASS, key))
            self._held.add(key)
        if self._events:
            self._send()

    def _send(self) -> None:
        events, refs = self._events, self._refs
        self._events, self._refs = [], []
        self._pending.clear()
        self._pending_env.clear()
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO nmem_events (brain, seq, t, cid, record) VALUES (%s, %s, %s, %s, %s)",
                events,
            )
            if refs:
                cur.executemany(
                    "INSERT INTO nmem_refs (brain, fiber, seq) VALUES (%s, %s, %s)", refs
                )

    def seq_for_cid(self, brain_id: str, cid: str) -> int | None:
        pending = self._pending.get((brain_id, cid))
        if pending is not None:
            return pending
        key = _lock_id(brain_id)  # a committed cid is found without sending the buffer
        if key not in self._held:
            self._touch(brain_id)
        check_id(cid, "client id")
        seq = self._one(
            "SELECT seq FROM nmem_events WHERE brain = %s AND cid = %s", (_uid(brain_id), cid)
        )
        return None if seq is None else int(seq)

    def event(self, brain_id: str, seq: int) -> ev.Envelope | None:
        pending = self._pending_env.get((brain_id, seq))
        return pending if pending is not None else super().event(brain_id, seq)

    def _insert(self, brain_id: str, env: ev.Envelope, refs: Sequence[str]) -> None:
        key = _lock_id(brain_id)
        if key not in self._held:
            self._touch(brain_id)
        bid = _uid(brain_id)
        self._events.append((bid, env.seq, env.t, env.cid, ev.encode(env)))
        self._refs.extend((bid, fiber_id, env.seq) for fiber_id in refs)
        self._pending[(brain_id, env.cid)] = env.seq
        self._pending_env[(brain_id, env.seq)] = env
        self._changed = True

    def _overwrite(self, brain_id: str, env: ev.Envelope) -> None:
        self._touch(brain_id)
        self.conn.execute(
            "UPDATE nmem_events SET record = %s WHERE brain = %s AND seq = %s",
            (ev.encode(env), _uid(brain_id), env.seq),
        )
        self._changed = True

    def _recreate(self, brain_id: str, old: ev.Envelope, new: ev.Envelope) -> None:
        self._touch(brain_id)
        self.conn.execute(
            "UPDATE nmem_events SET t = %s, cid = %s, record = %s WHERE brain = %s AND seq = 1",
            (new.t, new.cid, ev.encode(new), _uid(brain_id)),
        )
        self._changed = True

    def put_meta(self, brain_id: str | None, name: str, value: bytes) -> None:
        self._touch(brain_id)
        self.conn.execute(
            "INSERT INTO nmem_meta (brain, name, value) VALUES (%s, %s, %s) "
            "ON CONFLICT (brain, name) DO UPDATE SET value = excluded.value",
            (_uid(brain_id) if brain_id else _STORE, name, value),
        )

    def register_brain(self, name: str, brain_id: str) -> None:
        self._touch(None)
        self.conn.execute(
            "INSERT INTO nmem_brains (name, id) VALUES (%s, %s) "
            "ON CONFLICT (name) DO UPDATE SET id = excluded.id",
            (name, _uid(brain_id)),
        )

    def delete_brain(self, name: str, brain_id: str) -> None:
        self._touch(None)
        self._touch(brain_id)
        bid = _uid(brain_id)
        for table in ("nmem_events", "nmem_refs", "nmem_meta"):
            self.conn.execute(
                sql.SQL("DELETE FROM {} WHERE brain = %s").format(sql.Identifier(table)), (bid,)
            )
        self.conn.execute("DELETE FROM nmem_brains WHERE name = %s", (name,))
        self._heads.pop(brain_id, None)
        self._changed = True  # servers holding the brain open must let it go

    def finish(self) -> None:
        """Before the commit: send what is buffered, and tell listeners if events changed."""
        if self._events:
            self._send()
        if self._changed:
            self.conn.execute("SELECT pg_notify(%s, '')", (self.store.channel,))


class PostgresCheckpoints(CheckpointStore):
    def __init__(self, store: PostgresLogStore) -> None:
        self.store = store

    def _rows(self, query: str, params: Sequence[Any]) -> list[Any]:
        with self.store._conn() as conn, self.store._translated():
            return conn.execute(query, params).fetchall()

    def seqs(self, brain_id: str) -> list[int]:
        rows = self._rows(
            "SELECT DISTINCT seq FROM nmem_checkpoints WHERE brain = %s ORDER BY seq",
            (_uid(brain_id),),
        )
        return [int(seq) for (seq,) in rows]

    def put(self, brain_id: str, seq: int, parts: Sequence[Buffer]) -> None:
        bid = _uid(brain_id)
        with self.store._conn() as conn, self.store._translated(), conn.transaction():
            # servers on one log checkpoint the same seq at about the same moment: queue them,
            # or the second's insert would meet the first's rows (the same bytes) and fail
            lock = (_CHECKPOINT_LOCK_CLASS, _lock_id(brain_id))
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", lock)
            conn.execute("DELETE FROM nmem_checkpoints WHERE brain = %s AND seq = %s", (bid, seq))
            cur = conn.cursor()
            with cur.copy(
                "COPY nmem_checkpoints (brain, seq, part, data) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["uuid", "int8", "int4", "bytea"])
                for n, part in enumerate(_chunks(parts)):
                    copy.write_row((bid, seq, n, part))

    def get(self, brain_id: str, seq: int) -> Buffer:
        rows = self._rows(
            "SELECT data FROM nmem_checkpoints WHERE brain = %s AND seq = %s ORDER BY part",
            (_uid(brain_id), seq),
        )
        return b"".join(bytes(data) for (data,) in rows)

    def remove(self, brain_id: str, seq: int) -> None:
        with self.store._conn() as conn, self.store._translated():
            conn.execute(
                "DELETE FROM nmem_checkpoints WHERE brain = %s AND seq = %s", (_uid(brain_id), seq)
            )

    def brains(self) -> set[str]:
        return {bid.hex for (bid,) in self._rows("SELECT DISTINCT brain FROM nmem_checkpoints", ())}

    def remove_brain(self, brain_id: str) -> None:
        with self.store._conn() as conn, self.store._translated():
            conn.execute("DELETE FROM nmem_checkpoints WHERE brain = %s", (_uid(brain_id),))

    def name(self, brain_id: str, seq: int) -> str:
        return f"checkpoint {seq} of brain {brain_id} in {self.store.location}"


def _chunks(parts: Sequence[Buffer]) -> Iterator[Buffer]:
    """The parts, small ones joined and large ones cut, as pieces of at most _PART bytes."""
    small: list[bytes] = []
    size = 0
    for part in parts:
        view = memoryview(part).cast("B")
        if len(view) >= _PART // 4:
            if small:
                yield b"".join(small)
                small, size = [], 0
            for start in range(0, len(view), _PART):
                yield view[start : start + _PART]
            continue
        small.append(bytes(view))
        size += len(view)
        if size >= _PART // 4:
            yield b"".join(small)
            small, size = [], 0
    if small:
        yield b"".join(small)
