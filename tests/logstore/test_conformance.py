"""The rules of engine/logstore/base.py, checked on every backend (the `backend` fixture)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest

from engine import events as ev
from engine.errors import DataError, InputError, IntegrityError
from engine.logstore import LogStore, Writer, open_log
from engine.logstore.base import MAX_ID_BYTES

ROOT = Path(__file__).resolve().parents[2]
BRAIN = uuid.uuid4().hex


def body(i: int) -> ev.BrainConfigured:
    return ev.BrainConfigured(config=ev.BrainConfig(max_context_tokens=100 + i))


def appended(log: LogStore, *bodies: ev.Body, brain: str = BRAIN, **kw: Any) -> list[ev.Envelope]:
    return log.write(lambda w: [w.append(brain, b, **kw)[0] for b in bodies])


def test_append_assigns_consecutive_seqs_and_increasing_times(log: LogStore) -> None:
    envs = appended(log, *(body(i) for i in range(5)), t_us=1_000)
    assert [e.seq for e in envs] == [1, 2, 3, 4, 5]
    times = [e.t for e in envs]
    assert times[0] == 1_000
    assert times == sorted(set(times)), "recorded times must strictly increase"
    more = appended(log, body(5), t_us=10)  # asked for a time before the last: moved after it
    assert more[0].seq == 6
    assert more[0].t == times[-1] + 1
    with log.reader() as r:
        assert r.head(BRAIN) == 6
        assert r.last_time(BRAIN) == more[0].t
        assert [e.seq for e in r.events(BRAIN)] == [1, 2, 3, 4, 5, 6]
        assert [e.seq for e in r.events(BRAIN, after=2, upto=4)] == [3, 4]
        assert list(r.events(BRAIN, after=6)) == []
        assert r.event(BRAIN, 3) == envs[2]
        assert r.event(BRAIN, 7) is None


def test_brains_have_independent_sequences(log: LogStore) -> None:
    other = uuid.uuid4().hex

    def work(w: Writer) -> None:
        w.append(BRAIN, body(0))
        w.append(other, body(1))
        w.append(BRAIN, body(2))

    log.write(work)
    with log.reader() as r:
        assert r.head(BRAIN) == 2
        assert r.head(other) == 1
        assert r.head(uuid.uuid4().hex) == 0
        assert [e.body for e in r.events(other)] == [body(1)]
        assert [e.body for e in r.events(BRAIN)] == [body(0), body(2)]


def test_a_writer_sees_its_own_appends(log: LogStore) -> None:
    def work(w: Writer) -> tuple[int, list[int]]:
        w.append(BRAIN, body(0), cid="a")
        w.append(BRAIN, body(1), cid="b")
        return w.head(BRAIN), [e.seq for e in w.events(BRAIN)]

    assert log.write(work) == (2, [1, 2])


def test_retried_client_id_is_stored_once(log: LogStore) -> None:
    first, fresh = log.write(lambda w: w.append(BRAIN, body(1), cid="req-1"))
    assert fresh
    again, fresh_again = log.write(lambda w: w.append(BRAIN, body(99), cid="req-1"))
    assert not fresh_again
    assert again == first
    other = uuid.uuid4().hex
    _, fresh_other = log.write(lambda w: w.append(other, body(2), cid="req-1"))
    assert fresh_other, "a client id is per brain"
    with log.reader() as r:
        assert r.head(BRAIN) == 1
        assert r.seq_for_cid(BRAIN, "req-1") == 1
        assert r.seq_for_cid(BRAIN, "req-2") is None


def test_time_index_finds_the_last_event_at_or_before(log: LogStore) -> None:
    def work(w: Writer) -> None:
        for i, t in enumerate((100, 200, 300)):
            w.append(BRAIN, body(i), t_us=t)

    log.write(work)
    with log.reader() as r:
        assert r.seq_at_time(BRAIN, 50) == 0
        assert r.seq_at_time(BRAIN, 100) == 1
        assert r.seq_at_time(BRAIN, 250) == 2
        assert r.seq_at_time(BRAIN, 10**15) == 3
        assert r.seq_at_time(BRAIN, -5) == 0
        assert r.seq_at_time(uuid.uuid4().hex, 10**15) == 0
        assert r.last_time(BRAIN) == 300


def test_refs_index_lists_the_events_of_one_memory(log: LogStore) -> None:
    def work(w: Writer) -> None:
        w.append(BRAIN, body(0), refs=["aaa"])
        w.append(BRAIN, body(1), refs=["bbb"])
        w.append(BRAIN, body(2), refs=["aaa", "bbb"])
        w.append(uuid.uuid4().hex, body(3), refs=["aaa"])

    log.write(work)
    with log.reader() as r:
        assert r.refs(BRAIN, "aaa") == [1, 3]
        assert r.refs(BRAIN, "bbb") == [2, 3]
        assert r.refs(BRAIN, "aa") == []
        assert r.refs(BRAIN, "aaab") == []


def test_ids_longer_than_any_backend_keeps_are_input_errors(log: LogStore) -> None:
    long_cid = "é" * (MAX_ID_BYTES // 2 + 1)
    with pytest.raises(InputError, match="client id is too long"):
        log.write(lambda w: w.append(BRAIN, body(0), cid=long_cid))
    with pytest.raises(InputError, match="memory id is too long"):
        log.write(lambda w: w.append(BRAIN, body(0), refs=["x" * (MAX_ID_BYTES + 1)]))
    with pytest.raises(InputError, match="recorded time"):
        log.write(lambda w: w.append(BRAIN, body(0), t_us=2**63))
    fits = "x" * MAX_ID_BYTES
    log.write(lambda w: w.append(BRAIN, body(0), cid=fits, refs=[fits]))
    with log.reader() as r:
        assert r.head(BRAIN) == 1, "the refused appends wrote nothing"
        assert r.seq_for_cid(BRAIN, fits) == 1
        assert r.refs(BRAIN, fits) == [1]


def test_a_failed_write_leaves_nothing(log: LogStore) -> None:
    def failing(w: Writer) -> None:
        w.append(BRAIN, body(0), cid="lost", refs=["m"])
        w.put_meta(BRAIN, "k", b"v")
        w.register_brain("ghost", BRAIN)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        log.write(failing)
    with log.reader() as r:
        assert r.head(BRAIN) == 0
        assert r.seq_for_cid(BRAIN, "lost") is None
        assert r.refs(BRAIN, "m") == []
        assert r.meta(BRAIN, "k") is None
        assert r.brains() == {}


def test_a_reader_sees_one_snapshot(log: LogStore, backend: Any) -> None:
    appended(log, body(0))
    with log.reader() as r:
        assert r.head(BRAIN) == 1
        other = open_log(log.location)  # another handle: what another process would be
        try:
            appended(other, body(1), body(2))
        finally:
            other.close()
        assert r.head(BRAIN) == 1
        assert [e.seq for e in r.events(BRAIN)] == [1]
    with log.reader() as r:
        assert r.head(BRAIN) == 3


def test_meta_registry_and_positions(log: LogStore) -> None:
    other = uuid.uuid4().hex

    def work(w: Writer) -> None:
        w.register_brain("work", BRAIN)
        w.register_brain("home", other)
        w.put_meta(None, "current_brain", b"work")
        w.put_meta(BRAIN, "checkpoint_floor", b"7")
        for i in range(3):
            w.append(BRAIN, body(i))
        w.set_position("sqlite-export", BRAIN, 2)

    log.write(work)
    with log.reader() as r:
        assert r.brains() == {"work": BRAIN, "home": other}
        assert r.meta(None, "current_brain") == b"work"
        assert r.meta(BRAIN, "checkpoint_floor") == b"7"
        assert r.meta(other, "checkpoint_floor") is None
        assert r.meta(None, "checkpoint_floor") is None
        assert r.position("sqlite-export", BRAIN) == 2
        assert r.position("sqlite-export", other) == 0
        assert r.position("neo4j", BRAIN) == 0
        assert r.meta_items(BRAIN) == {"checkpoint_floor": b"7", "position:sqlite-export": b"2"}
        assert r.meta_items(None) == {"current_brain": b"work"}
        assert r.meta_items(other) == {}
    log.write(lambda w: w.set_position("sqlite-export", BRAIN, 3))
    with log.reader() as r:
        assert r.position("sqlite-export", BRAIN) == 3
    with pytest.raises(IntegrityError, match="outside"):
        log.write(lambda w: w.set_position("sqlite-export", BRAIN, 4))
    with pytest.raises(InputError):
        log.write(lambda w: w.set_position("", BRAIN, 1))


def test_delete_brain_removes_every_record_of_it_and_nothing_else(log: LogStore) -> None:
    other = uuid.uuid4().hex

    def work(w: Writer) -> None:
        for b, name in ((BRAIN, "gone"), (other, "kept")):
            w.register_brain(name, b)
            w.put_meta(b, "checkpoint_floor", b"1")
            w.append(b, body(0), cid="c1", refs=["m1"], t_us=100)
            w.append(b, body(1), cid="c2", refs=["m1"], t_us=200)
            w.set_position("x", b, 2)

    log.write(work)
    log.write(lambda w: w.delete_brain("gone", BRAIN))
    with log.reader() as r:
        assert r.brains() == {"kept": other}
        assert r.head(BRAIN) == 0
        assert list(r.events(BRAIN)) == []
        assert r.seq_for_cid(BRAIN, "c1") is None
        assert r.refs(BRAIN, "m1") == []
        assert r.seq_at_time(BRAIN, 10**9) == 0
        assert r.meta(BRAIN, "checkpoint_floor") is None
        assert r.position("x", BRAIN) == 0
        assert r.head(other) == 2
        assert r.refs(other, "m1") == [1, 2]
        assert r.position("x", other) == 2
    again = appended(log, body(5))  # the id can start over from seq 1
    assert again[0].seq == 1


def test_replace_redacts_in_place_and_keeps_seq_time_and_cid(log: LogStore) -> None:
    secret = ev.BrainCreated(name="Quandorix4410 plans")
    envs = appended(log, secret, body(1), cid=None)
    env = envs[0]
    redacted = msgspec.structs.replace(env, body=ev.BrainCreated(name="[erased]"))
    log.write(lambda w: w.replace(BRAIN, redacted))
    with log.reader() as r:
        assert r.event(BRAIN, 1) == redacted
        assert next(r.events(BRAIN)).body == ev.BrainCreated(name="[erased]")
        assert r.seq_for_cid(BRAIN, env.cid) == 1
        assert r.seq_at_time(BRAIN, env.t) == 1
    for forged in (
        msgspec.structs.replace(redacted, t=env.t + 1),
        msgspec.structs.replace(redacted, cid="other"),
        msgspec.structs.replace(redacted, seq=9),
    ):
        with pytest.raises(IntegrityError, match="cannot replace"):
            log.write(lambda w, f=forged: w.replace(BRAIN, f))


def test_rewrite_creation_moves_time_and_client_id(log: LogStore) -> None:
    (created,) = appended(log, ev.BrainCreated(name="new"), t_us=5_000)
    source = ev.Envelope(seq=1, t=1_000, cid="import:src:1", body=ev.BrainCreated(name="new"))
    log.write(lambda w: w.rewrite_creation(BRAIN, source))
    with log.reader() as r:
        assert r.event(BRAIN, 1) == source
        assert r.seq_for_cid(BRAIN, "import:src:1") == 1
        assert r.seq_for_cid(BRAIN, created.cid) is None
        assert r.seq_at_time(BRAIN, 1_000) == 1
        assert r.seq_at_time(BRAIN, 999) == 0
        assert r.last_time(BRAIN) == 1_000
    nxt = appended(log, body(1), t_us=1_500)
    assert (nxt[0].seq, nxt[0].t) == (2, 1_500)
    with pytest.raises(IntegrityError, match="creation event"):
        log.write(lambda w: w.rewrite_creation(BRAIN, source))


def test_a_rewritten_creation_is_seen_by_later_appends_in_the_same_write(log: LogStore) -> None:
    appended(log, ev.BrainCreated(name="new"), t_us=5_000)
    source = ev.Envelope(seq=1, t=1_000, cid="import:src:1", body=ev.BrainCreated(name="new"))

    def work(w: Writer) -> ev.Envelope:
        w.rewrite_creation(BRAIN, source)
        return w.append(BRAIN, body(1), t_us=1_200)[0]

    assert log.write(work).t == 1_200


def test_a_corrupt_record_is_a_clear_error(log: LogStore, backend: Any) -> None:
    appended(log, body(0))
    backend.plant(log, BRAIN, 2, b"\xc1garbage")
    with log.reader() as r, pytest.raises(DataError, match="corrupt event"):
        list(r.events(BRAIN))
    with log.reader() as r, pytest.raises(DataError, match="corrupt event"):
        r.event(BRAIN, 2)


def test_a_gap_in_the_sequence_is_detected(log: LogStore, backend: Any) -> None:
    appended(log, body(0), body(1), body(2))
    backend.drop(log, BRAIN, 2)
    with log.reader() as r, pytest.raises(IntegrityError, match="gap"):
        list(r.events(BRAIN))
    with log.reader() as r:
        assert [e.seq for e in r.events(BRAIN, after=2)] == [3]


def test_a_record_claiming_another_seq_is_detected(log: LogStore, backend: Any) -> None:
    (env,) = appended(log, body(0))
    backend.plant(log, BRAIN, 2, ev.encode(msgspec.structs.replace(env, seq=7)))
    with log.reader() as r, pytest.raises(DataError, match="claims seq 7"):
        list(r.events(BRAIN))
    with log.reader() as r, pytest.raises(DataError, match="claims seq 7"):
        r.event(BRAIN, 2)


def test_checkpoint_store_keeps_whole_blobs(log: LogStore) -> None:
    ck = log.checkpoints
    assert ck.seqs(BRAIN) == []
    ck.put(BRAIN, 20, [b"head", memoryview(b"-middle-"), bytearray(b"tail")])
    ck.put(BRAIN, 10, [b"older"])
    other = uuid.uuid4().hex
    ck.put(other, 5, [b"x" * 100_000])
    assert ck.seqs(BRAIN) == [10, 20]
    assert bytes(ck.get(BRAIN, 20)) == b"head-middle-tail"
    assert bytes(ck.get(other, 5)) == b"x" * 100_000
    assert ck.brains() == {BRAIN, other}
    with pytest.raises(TypeError):  # a part that is not bytes fails the put half-way
        ck.put(BRAIN, 30, [b"fine", object()])  # type: ignore[list-item]
    assert ck.seqs(BRAIN) == [10, 20], "a failed put leaves no checkpoint"
    ck.remove(BRAIN, 10)
    ck.remove(BRAIN, 10)  # removing what is gone is no error
    assert ck.seqs(BRAIN) == [20]
    ck.remove_brain(other)
    assert ck.brains() == {BRAIN}
    assert ck.seqs(other) == []


WRITER = """
import sys
from engine import events as ev
from engine.logstore import open_log
location, brain, name, batches = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
log = open_log(location)
def batch(b):
    cids = [f"{name}:{b}:{i}" for i in range(5)]
    return lambda w: [w.append(brain, ev.BrainCreated(name=c), cid=c) for c in cids]
for b in range(batches):
    log.write(batch(b))
    if b == batches // 2:
        log.write(batch(0))  # a retry of an earlier batch stores nothing
log.close()
"""


def test_concurrent_writer_processes_get_one_gap_free_sequence(log: LogStore, backend: Any) -> None:
    appended(log, ev.BrainCreated(name="shared"))
    names, batches = ("a", "b", "c"), 12
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, log.location, BRAIN, name, str(batches)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for name in names
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with log.reader() as r:
        envs = list(r.events(BRAIN))  # raises on any gap
        assert [e.seq for e in envs] == list(range(1, 1 + 1 + len(names) * batches * 5))
        times = [e.t for e in envs]
        assert times == sorted(set(times))
        for name in names:
            mine = [e for e in envs if e.cid.startswith(f"{name}:")]
            assert [e.cid for e in mine] == [
                f"{name}:{b}:{i}" for b in range(batches) for i in range(5)
            ], "each process's events are there once, in its order"
            seqs = [e.seq for e in mine]
            for start in range(0, len(seqs), 5):  # a batch is one transaction: contiguous
                assert seqs[start : start + 5] == list(range(seqs[start], seqs[start] + 5))
            assert all(r.seq_for_cid(BRAIN, e.cid) == e.seq for e in mine)


NOTIFIER = """
import sys, time
from engine import events as ev
from engine.logstore import open_log
log = open_log(sys.argv[1])
time.sleep(0.3)
log.write(lambda w: w.append(sys.argv[2], ev.BrainCreated(name="late")))
log.close()
"""


def test_wait_for_events_learns_of_another_process_commit(log: LogStore) -> None:
    appended(log, body(0))
    assert log.wait_for_events(0.05) is False, "nothing was committed since the first call"
    proc = subprocess.Popen(
        [sys.executable, "-c", NOTIFIER, log.location, BRAIN],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert log.wait_for_events(30) is True
    finally:
        proc.wait(timeout=60)
    with log.reader() as r:
        assert r.head(BRAIN) == 2
    assert log.wait_for_events(0.05) is False


CHECKPOINTER = """
import sys
from engine.logstore import open_log
log = open_log(sys.argv[1])
blob = sys.argv[3].encode() * (4 << 20)
for _ in range(int(sys.argv[4])):
    log.checkpoints.put(sys.argv[2], 10, [blob[: 1 << 20], blob[1 << 20 :]])
log.close()
"""


def test_processes_checkpointing_the_same_seq_at_once_all_succeed(log: LogStore) -> None:
    """Servers on one log fold the same events and checkpoint the same seq at the same moment:
    neither may fail, and what stays is one whole blob."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHECKPOINTER, log.location, BRAIN, letter, "8"],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for letter in "xyz"
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert log.checkpoints.seqs(BRAIN) == [10]
    kept = bytes(log.checkpoints.get(BRAIN, 10))
    assert len(kept) == 4 << 20
    assert kept in {letter.encode() * (4 << 20) for letter in "xyz"}
