"""The LMDB event log: sequence, indexes, idempotency, corruption, map growth."""

from __future__ import annotations

import uuid
from pathlib import Path

import lmdb
import msgspec
import pytest

from engine import events as ev
from engine.errors import DataError, IntegrityError
from engine.log import EventLog, brain_key

BRAIN = uuid.uuid4().hex


def body(i: int) -> ev.BrainConfigured:
    return ev.BrainConfigured(config=ev.BrainConfig(max_context_tokens=100 + i))


@pytest.fixture
def log(tmp_path: Path):
    lg = EventLog(tmp_path / "log")
    yield lg
    lg.close()


def test_append_assigns_consecutive_seqs_and_monotonic_times(log: EventLog) -> None:
    with log.writer() as w:
        envs = [w.append(BRAIN, body(i), t_us=1_000)[0] for i in range(5)]
    assert [e.seq for e in envs] == [1, 2, 3, 4, 5]
    times = [e.t for e in envs]
    assert times == sorted(set(times)), "recorded times must strictly increase"
    with log.reader() as r:
        assert r.head(BRAIN) == 5
        assert [e.seq for e in r.events(BRAIN)] == [1, 2, 3, 4, 5]
        assert [e.seq for e in r.events(BRAIN, after=2, upto=4)] == [3, 4]
        assert r.event(BRAIN, 3) == envs[2]


def test_brains_have_independent_sequences(log: EventLog) -> None:
    other = uuid.uuid4().hex
    with log.writer() as w:
        w.append(BRAIN, body(0))
        w.append(other, body(1))
        w.append(BRAIN, body(2))
    with log.reader() as r:
        assert r.head(BRAIN) == 2
        assert r.head(other) == 1
        assert r.head(uuid.uuid4().hex) == 0
        assert [e.body for e in r.events(other)] == [body(1)]


def test_retried_client_id_is_stored_once(log: EventLog) -> None:
    with log.writer() as w:
        first, fresh = w.append(BRAIN, body(1), cid="req-1")
    assert fresh
    with log.writer() as w:
        again, fresh_again = w.append(BRAIN, body(99), cid="req-1")
    assert not fresh_again
    assert again == first
    with log.reader() as r:
        assert r.head(BRAIN) == 1
        assert r.seq_for_cid(BRAIN, "req-1") == 1


def test_time_index_finds_the_last_event_at_or_before(log: EventLog) -> None:
    with log.writer() as w:
        for i, t in enumerate((100, 200, 300)):
            w.append(BRAIN, body(i), t_us=t)
    with log.reader() as r:
        assert r.seq_at_time(BRAIN, 50) == 0
        assert r.seq_at_time(BRAIN, 100) == 1
        assert r.seq_at_time(BRAIN, 250) == 2
        assert r.seq_at_time(BRAIN, 10**15) == 3
        assert r.last_time(BRAIN) == 300


def test_refs_index_lists_the_events_of_one_memory(log: EventLog) -> None:
    with log.writer() as w:
        w.append(BRAIN, body(0), refs=["aaa"])
        w.append(BRAIN, body(1), refs=["bbb"])
        w.append(BRAIN, body(2), refs=["aaa", "bbb"])
    with log.reader() as r:
        assert r.refs(BRAIN, "aaa") == [1, 3]
        assert r.refs(BRAIN, "bbb") == [2, 3]
        assert r.refs(BRAIN, "aa") == []


def test_uncommitted_writes_are_invisible_and_lost_on_error(log: EventLog) -> None:
    def failing_write() -> None:
        with log.writer() as w:
            w.append(BRAIN, body(0))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing_write()
    with log.reader() as r:
        assert r.head(BRAIN) == 0


def test_corrupt_record_is_a_clear_error(log: EventLog) -> None:
    with log.writer() as w:
        w.append(BRAIN, body(0))
        w.txn.put(brain_key(BRAIN) + (2).to_bytes(8, "big"), b"\xc1garbage", db=w._db("events"))
    with log.reader() as r, pytest.raises(DataError, match="corrupt event"):
        list(r.events(BRAIN))


def test_gap_in_sequence_is_detected(log: EventLog) -> None:
    with log.writer() as w:
        for i in range(3):
            w.append(BRAIN, body(i))
        w.txn.delete(brain_key(BRAIN) + (2).to_bytes(8, "big"), db=w._db("events"))
    with log.reader() as r, pytest.raises(IntegrityError, match="gap"):
        list(r.events(BRAIN))


def test_event_claiming_another_seq_is_detected(log: EventLog) -> None:
    with log.writer() as w:
        env, _ = w.append(BRAIN, body(0))
        forged = msgspec.structs.replace(env, seq=7)
        w.txn.put(brain_key(BRAIN) + (2).to_bytes(8, "big"), ev.encode(forged), db=w._db("events"))
    with log.reader() as r, pytest.raises(DataError, match="claims seq 7"):
        list(r.events(BRAIN))


def test_map_full_grows_the_map_and_a_retry_succeeds(tmp_path: Path) -> None:
    lg = EventLog(tmp_path / "small", map_size=128 * 1024)
    try:
        big = ev.BrainCreated(name="x" * 60_000)
        grown = False
        for _ in range(50):
            try:
                with lg.writer() as w:
                    w.append(BRAIN, big)
            except lmdb.MapFullError:
                grown = True
        assert grown, "the small map never filled up; the test proves nothing"
        assert lg.map_size > 128 * 1024
        with lg.reader() as r:
            assert r.head(BRAIN) == len(list(r.events(BRAIN)))
            assert r.head(BRAIN) >= 45
    finally:
        lg.close()


def test_ensure_room_grows_ahead_of_a_big_batch(tmp_path: Path) -> None:
    lg = EventLog(tmp_path / "small", map_size=256 * 1024)
    try:
        lg.ensure_room(10 << 20)
        assert lg.map_size >= 20 << 20
        with lg.writer() as w:
            for _ in range(100):
                w.append(BRAIN, ev.BrainCreated(name="y" * 50_000))
    finally:
        lg.close()


def test_future_schema_version_is_refused() -> None:
    env = ev.Envelope(seq=1, t=1, cid="c", body=body(0), v=ev.SCHEMA_VERSION + 1)
    with pytest.raises(DataError, match="newer NeuralMemory"):
        ev.decode(ev.encode(env))


def test_old_schema_versions_are_upcast(monkeypatch: pytest.MonkeyPatch) -> None:
    old = msgspec.msgpack.encode(
        {"seq": 1, "t": 5, "cid": "c", "v": 0, "body": {"type": "brain_created", "title": "legacy"}}
    )

    def v0_to_v1(raw: dict) -> dict:
        raw["body"]["name"] = raw["body"].pop("title")
        return raw

    monkeypatch.setitem(ev.UPCASTERS, 0, v0_to_v1)
    env = ev.decode(old)
    assert env.body == ev.BrainCreated(name="legacy")
    assert env.v == ev.SCHEMA_VERSION


def test_two_handles_in_one_process_share_the_environment(tmp_path: Path) -> None:
    a = EventLog(tmp_path / "log")
    b = EventLog(tmp_path / "log")
    try:
        with a.writer() as w:
            w.append(BRAIN, body(0))
        with b.reader() as r:
            assert r.head(BRAIN) == 1
    finally:
        a.close()
        b.close()
