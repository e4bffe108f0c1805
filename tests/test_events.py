"""Event records: schema versions and upcasting."""

from __future__ import annotations

import msgspec
import pytest

from engine import events as ev
from engine.errors import DataError


def body(i: int) -> ev.BrainConfigured:
    return ev.BrainConfigured(config=ev.BrainConfig(max_context_tokens=100 + i))


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
