"""Every stored string passes the sensitive-content policy, on every path (issue 14).

The structural test builds every event type with a secret in each of its string slots in turn
(found by inspecting the Structs, so a field added later is covered without editing this file)
and appends it to a real log; the path tests go through the Python API, the snapshot and
history imports and the CLI, and then read every byte of every file of the store.
"""

from __future__ import annotations

import json
import subprocess
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from helpers import NMEM
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Store, screening
from engine import events as ev
from engine.errors import InputError, SensitiveContentError

GITHUB = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
AWS = "AKIAIOSFODNN7EXAMPLE"  # also a valid brain name and memory id
STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
SECRETS = (GITHUB, AWS, STRIPE)


def store_bytes(path: Path) -> bytes:
    """Every byte of every file under the store."""
    return b"".join(f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file())


def assert_nowhere(path: Path, *secrets: str) -> None:
    data = store_bytes(path)
    for secret in secrets:
        for form in {secret, secret.lower()}:
            assert form.encode() not in data, f"{form} is stored in {path}"


# -- every string slot of every event type --------------------------------------------------


Path_ = tuple[str | int, ...]


def _slots(t: msgspec.inspect.Type, at: Path_) -> Iterator[Path_]:
    """Paths to every string a value of type `t` can hold."""
    if isinstance(t, msgspec.inspect.StrType):
        yield at
    elif isinstance(t, msgspec.inspect.UnionType):
        for option in t.types:
            yield from _slots(option, at)
    elif isinstance(t, msgspec.inspect.ListType):
        yield from _slots(t.item_type, (*at, 0))
    elif isinstance(t, msgspec.inspect.DictType):
        yield from _slots(t.key_type, (*at, "<key>"))
        yield from _slots(t.value_type, (*at, "<value>"))
    elif isinstance(t, msgspec.inspect.StructType):
        for f in t.fields:
            yield from _slots(f.type, (*at, f.name))


def _build(t: msgspec.inspect.Type, at: Path_, target: Path_, secret: str) -> Any:
    """A value of type `t`, plain everywhere but the secret at `target`."""
    on_path = target[: len(at)] == at
    if isinstance(t, msgspec.inspect.StrType):
        return secret if at == target else "plain"
    if isinstance(t, msgspec.inspect.UnionType):
        strs = [o for o in t.types if on_path and any(_slots(o, at))]
        chosen = strs[0] if strs else t.types[0]
        return _build(chosen, at, target, secret)
    if isinstance(t, msgspec.inspect.ListType):
        return [_build(t.item_type, (*at, 0), target, secret)]
    if isinstance(t, msgspec.inspect.DictType):
        key = _build(t.key_type, (*at, "<key>"), target, secret)
        return {key: _build(t.value_type, (*at, "<value>"), target, secret)}
    if isinstance(t, msgspec.inspect.StructType):
        return t.cls(**{f.name: _build(f.type, (*at, f.name), target, secret) for f in t.fields})
    if isinstance(t, msgspec.inspect.LiteralType):  # one of fixed values: no secret fits
        return t.values[0]
    simple: dict[type, Any] = {
        msgspec.inspect.IntType: 1,
        msgspec.inspect.FloatType: 0.5,
        msgspec.inspect.BoolType: False,
        msgspec.inspect.BytesType: b"",
        msgspec.inspect.NoneType: None,
    }
    return simple[type(t)]


BODY_SLOTS = [
    (cls, slot)
    for cls in typing.get_args(ev.Body)
    for slot in dict.fromkeys(_slots(msgspec.inspect.type_info(cls), ()))
]


def test_every_event_type_has_string_slots_found() -> None:
    """The walk sees the fields a secret could hide in (or this file would test nothing)."""
    names = {(cls.__name__, slot) for cls, slot in BODY_SLOTS}
    assert ("MemoryEncoded", ("tags", 0)) in names
    assert ("MemoryEncoded", ("meta", "<key>")) in names
    assert ("MemoryEncoded", ("neurons", 0, "content")) in names
    assert ("ProjectCreated", ("project", "description")) in names
    assert ("MemoryForgotten", ("reason",)) in names
    assert ("BrainCreated", ("name",)) in names
    fields = {f for cls, slot in BODY_SLOTS for f in slot if isinstance(f, str)} | {"cid"}
    assert fields >= screening.NAMES, "a name in screening.NAMES is no event field any more"


@pytest.mark.parametrize(("cls", "slot"), BODY_SLOTS, ids=lambda v: getattr(v, "__name__", v))
def test_a_secret_in_any_string_of_any_event_is_refused_by_the_log(
    cls: type, slot: Path_, tmp_path: Path
) -> None:
    body = _build(msgspec.inspect.type_info(cls), (), slot, GITHUB)
    assert GITHUB.encode() in msgspec.msgpack.encode(body)  # the secret is really in it
    with Store(tmp_path / "s") as store:
        brain = store.brain("b")
        with pytest.raises(SensitiveContentError) as refused:
            store.log.write(lambda w: w.append(brain.id, body, policy="block"))
        assert GITHUB not in str(refused.value)
        assert refused.value.field.startswith(str(slot[0]))
        field = [f for f in slot if isinstance(f, str) and not f.startswith("<")][-1]
        if field in screening.NAMES:  # a name cannot be redacted: it would name another thing
            with pytest.raises(SensitiveContentError, match="cannot be redacted"):
                screening.event(body, None, "redact")
        else:
            redacted, _ = screening.event(body, None, "redact")
            assert GITHUB.encode() not in msgspec.msgpack.encode(redacted)
        assert screening.event(body, None, "allow") == (body, None)
    assert_nowhere(tmp_path / "s", GITHUB)


def test_a_secret_client_id_is_refused(store: Store) -> None:
    brain = store.brain("b")
    with pytest.raises(SensitiveContentError, match="client id"):
        store.log.write(lambda w: w.append(brain.id, ev.MemoryPinned("x"), cid=AWS))
    with pytest.raises(SensitiveContentError, match="client id"):
        brain.remember("plain text", cid=f"retry-{STRIPE}")


def test_screening_changes_nothing_plain() -> None:
    """Plain events come back as the same objects: the boundary costs no copy."""
    body = ev.MemoryEncoded(
        fiber_id="0123456789abcdef0123456789abcdef", text="Alice moved to Lisbon", first_neuron=1,
        event_start=0, event_end=1, memory_type="fact", priority=5, salience=0.5,
        neurons=[ev.NeuronSpec(1, "lisbon", "Lisbon")], tags=["travel"], meta={"k": "v"},
    )  # fmt: skip
    assert screening.event(body, "import:abc:2", "block") == (body, "import:abc:2")
    assert screening.event(body, None, "redact")[0] is body


# -- the write paths --------------------------------------------------------------------------


def test_python_api_screens_every_field(store: Store, store_path: Path) -> None:
    brain = store.brain("b")
    attempts = [
        lambda: brain.remember("plain text", tags=[GITHUB]),
        lambda: brain.remember("plain text", source=f"bot {STRIPE}"),
        lambda: brain.remember("plain text", meta={"key": GITHUB}),
        lambda: brain.remember("plain text", meta={GITHUB: 1}),
        lambda: brain.remember("plain text", id=AWS),
        lambda: brain.create_project(f"launch {GITHUB}"),
        lambda: brain.create_project("launch", description=f"token {STRIPE}"),
        lambda: brain.create_project("launch", tags=[AWS]),
        lambda: store.create_brain(AWS),
    ]
    for attempt in attempts:
        with pytest.raises(SensitiveContentError) as refused:
            attempt()
        assert not any(s in str(refused.value) for s in SECRETS)
    kept = brain.remember("plain text", tags=["ok"]).id
    for change in (
        lambda: brain.edit(kept, tags=["ok", GITHUB]),
        lambda: brain.forget(kept, reason=f"leaked {STRIPE}"),
    ):
        with pytest.raises(SensitiveContentError):
            change()
    assert AWS not in store.brain_names()
    brain.configure(sensitive_policy="redact")
    redacted = brain.remember("plain text two", tags=[GITHUB], meta={"k": f"x {STRIPE}"}).id
    assert list(brain.get(redacted).tags) == ["[REDACTED]"]
    assert brain.get(redacted).meta == {"k": "x [REDACTED]"}
    with pytest.raises(SensitiveContentError, match="cannot be redacted"):
        brain.remember("plain text three", cid=AWS)
    store.close()
    assert_nowhere(store_path, *SECRETS)


def test_snapshot_import_screens_tags_meta_and_projects(store: Store, store_path: Path) -> None:
    source = store.brain("src")
    source.create_project("launch")
    source.remember("Alice ships the launch on Friday", tags=["plan"], project="launch")
    clean = source.snapshot()
    for plant in (
        lambda d: d["fibers"][0]["tags"].append(GITHUB),
        lambda d: d["fibers"][0].setdefault("metadata", {}).update(note=STRIPE),
        lambda d: d["metadata"]["projects"][0].update(description=f"key {GITHUB}"),
    ):
        data = json.loads(json.dumps(clean))
        plant(data)
        with pytest.raises(InputError, match="nothing was imported") as refused:
            store.brain("dst").import_snapshot(data)
        assert not any(s in str(refused.value) for s in SECRETS)
        assert store.brain("dst").stats()["memories"] == 0
    store.close()
    assert_nowhere(store_path, *SECRETS)


def test_history_import_refuses_a_secret_even_in_an_erased_record(
    store: Store, store_path: Path
) -> None:
    """A crafted history marks its secret "erased": it would import and never be erasable."""
    source = store.brain("src")
    source.remember("Alice ships the launch on Friday", tags=["plan"])
    history = list(source.export_history())
    for plant in (
        lambda b: b.update(text=f"the key is {GITHUB}", erased=True),
        lambda b: b.update(tags=[STRIPE]),
        lambda b: b.update(source=STRIPE),
        lambda b: b["neurons"][0].__setitem__(2, GITHUB),
    ):
        records = json.loads(json.dumps(history))
        plant(next(r for r in records[1:] if r["type"] == "memory_encoded")["body"])
        with pytest.raises(InputError, match=r"seq 2.*nothing was imported") as refused:
            store.brain("dst").import_history(records)
        assert not any(s in str(refused.value) for s in SECRETS)
    assert store.brain("dst").stats()["memories"] == 0
    store.close()
    assert_nowhere(store_path, *SECRETS)


def _nmem(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NMEM, *args, "--store", str(store)], capture_output=True, text=True, check=False
    )


def test_cli_screens_tags_ids_names_reasons_and_projects(tmp_path: Path) -> None:
    store = tmp_path / "s"
    kept = json.loads(_nmem(store, "remember", "plain text", "--json").stdout)["id"]
    refused = [
        ("remember", "plain text", "-t", GITHUB),
        ("remember", "plain text", "--id", AWS),
        ("edit", kept, "--tag", STRIPE),
        ("forget", kept, "--reason", f"leaked {GITHUB}"),
        ("brain", "create", AWS),
        ("project", "create", f"launch-{GITHUB}"),
        ("project", "create", "launch", "--description", f"key {STRIPE}"),
    ]
    for args in refused:
        done = _nmem(store, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert not any(s in done.stderr + done.stdout for s in SECRETS)
    assert_nowhere(store, *SECRETS)


def test_a_refused_import_creates_no_brain(tmp_path: Path) -> None:
    """Neither the CLI nor the engine leaves an empty target brain behind a refused import."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    _nmem(src, "remember", f"deploy with password=hunter2hunter2 {STRIPE}", "--force")
    exported = tmp_path / "full.json"
    history = tmp_path / "full.jsonl"
    assert _nmem(src, "export", "-o", str(exported)).returncode == 0
    assert _nmem(src, "export", "-o", str(history), "--format", "history").returncode == 0
    for name, file in (("x", exported), ("y", history)):
        done = _nmem(dst, "import", str(file), "--brain", name)
        assert done.returncode == 2, done.stderr
        assert "nothing was imported" in done.stderr
    with Store(dst) as store:
        assert set(store.brain_names()) <= {"default"}
        with pytest.raises(InputError):
            store.brain_to_fill("z").import_snapshot(json.loads(exported.read_text()))
        assert "z" not in store.brain_names()
        done = store.brain_to_fill("z").import_snapshot(
            json.loads(exported.read_text()), sensitive="redact"
        )
        assert done["memories"] == 1
        assert "z" in store.brain_names()
    assert_nowhere(dst, STRIPE)


# -- the fast path for plain events ----------------------------------------------------------

_HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from([*SECRETS, "\ud800", "password: hunter2hunter2", "4111 1111 1111 1111"]),
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=8), st.sampled_from(SECRETS),
              st.text(max_size=8)),
)  # fmt: skip


def _outcome(screen: Any, body: Any, cid: str | None, policy: str) -> Any:
    try:
        return screen(body, cid, policy)
    except (InputError, SensitiveContentError) as refused:
        return type(refused), str(refused)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(BODY_SLOTS),
    _HOSTILE,
    st.none() | _HOSTILE,
    st.sampled_from(screening.POLICIES),
)
def test_the_fast_path_decides_as_the_plain_walk(
    case: tuple[type, Path_], value: str, cid: str | None, policy: str
) -> None:
    """`event` (which returns a plain event untouched without walking its field paths, and
    remembers clean strings) gives what the plain walk gives: the same objects, the same
    redacted copy or the same refusal; asked twice, so the remembered strings are used."""
    cls, slot = case
    body = _build(msgspec.inspect.type_info(cls), (), slot, value)
    expected = _outcome(screening.screened, body, cid, policy)
    for _ in range(2):
        got = _outcome(screening.event, body, cid, policy)
        assert got == expected
        if isinstance(expected, tuple) and expected[0] is body:
            assert got[0] is body
