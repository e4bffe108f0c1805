"""Hostile strings and numbers through every write path of the engine (hypothesis): each call
either works or raises an `InputError` / `NotFoundError` (one clear message for the adapters),
never another exception; and with the default policy no secret reaches any file of the store.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Store
from engine.errors import InputError, NotFoundError

SECRETS = (
    "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
    "AKIAIOSFODNN7EXAMPLE",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "xoxb-1234567890-abcdefghijkl",
    "password=hunter2hunter2",
)

plain = st.text(max_size=40)  # any code point: controls, surrogates, right-to-left marks ...
# a secret as a word of its own: glued to letters or digits it is part of an identifier, which
# the detector leaves alone on purpose (tests/test_sensitive.py)
with_secret = st.tuples(plain, st.sampled_from(SECRETS), plain).map(" ".join)
strings = st.one_of(plain, with_secret, st.sampled_from(["", " ", "\x00", "\ud800", "a" * 300]))
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1e15, 1e300, 1e308, -1e308]),
)
maybe = st.one_of(st.none(), numbers)


def _call(name: str, args: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    return args.map(lambda kw: (name, kw))


OPS = st.one_of(
    _call("remember", st.fixed_dictionaries(
        {"text": strings},
        optional={"tags": st.lists(strings, max_size=3), "source": strings, "cid": strings,
                  "meta": st.dictionaries(strings, st.one_of(strings, numbers), max_size=2),
                  "priority": numbers, "expires_in_days": maybe, "memory_type": strings},
    )),
    _call("edit", st.fixed_dictionaries(
        {}, optional={"text": strings, "tags": st.lists(strings, max_size=3),
                      "priority": numbers, "expires_in_days": maybe, "memory_type": strings},
    )),
    _call("forget", st.fixed_dictionaries({"reason": strings})),
    _call("create_project", st.fixed_dictionaries(
        {"name": strings},
        optional={"description": strings, "tags": st.lists(strings, max_size=2),
                  "duration_days": maybe, "priority": numbers},
    )),
    _call("extend_project", st.fixed_dictionaries({"days": numbers})),
    _call("create_brain", st.fixed_dictionaries({"name": strings})),
    _call("recall", st.fixed_dictionaries({"query": strings})),
)  # fmt: skip


def _run(store: Store, op: str, kw: dict[str, Any]) -> None:
    brain = store.brain("h")
    existing = brain.memories(limit=1)
    target = existing[0].id if existing else "0"
    calls: dict[str, Callable[[], object]] = {
        "remember": lambda: brain.remember(**kw),
        "edit": lambda: brain.edit(target, **kw),
        "forget": lambda: brain.forget(target, **kw),
        "create_project": lambda: brain.create_project(**kw),
        "extend_project": lambda: [brain.extend_project(p.name, **kw) for p in brain.projects()],
        "create_brain": lambda: store.create_brain(**kw),
        "recall": lambda: brain.recall(**kw),
    }
    try:
        calls[op]()
    except (InputError, NotFoundError) as exc:
        message = str(exc)  # may quote the caller's own input back, on one line
        lines = message.strip().splitlines()
        assert len(lines) == 1, message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, min_size=1, max_size=12))
def test_hostile_input_never_crashes_and_stores_no_secret(ops: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s"
        with Store(path) as store:
            store.brain("h").remember("Alice keeps the launch plan", tags=["plan"])
            store.brain("h").create_project("launch", duration_days=30)
            for op, kw in ops:
                _run(store, op, kw)
        data = b"".join(f.read_bytes() for f in path.rglob("*") if f.is_file())
        for secret in SECRETS:
            assert secret.encode() not in data, secret
            assert secret.split("=")[-1].encode() not in data, secret
