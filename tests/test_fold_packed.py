"""The fold's fast path for memories: packed links (schema 2) fold to exactly the state the
link lists of a schema-1 record give, however the events are grouped into runs."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import events as ev
from engine.errors import IntegrityError
from engine.fold import apply, apply_all
from engine.projection import Projection, state_bytes

T0 = 1_700_000_000_000_000

# per memory: new neurons, links as (target as a share of the neurons that exist, type, weight)
memories = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.lists(
            st.tuples(st.floats(0, 0.999), st.integers(0, 12), st.floats(0.01, 2.0)), max_size=6
        ),
        st.booleans(),
    ),
    min_size=1,
    max_size=30,
)


# per memory, what a record may carry beyond its links: tags, meta, an expiry, neuron keys
# (none, or not ASCII), a source
extras = st.tuples(
    st.lists(st.sampled_from(["t", "é", "u v"]), max_size=2),
    st.dictionaries(st.sampled_from(["a", "ü"]), st.integers(0, 3) | st.text(max_size=3)),
    st.none() | st.integers(T0, T0 + 10**9),
    st.sampled_from(["k", "", "ключ"]),
    st.sampled_from(["api", "mcp"]),
)


def records(
    spec: list[tuple[int, list[tuple[float, int, float]], bool]],
    packed: bool,
    more: list[tuple[list[str], dict[str, Any], int | None, str, str]] | None = None,
) -> list[Any]:
    out: list[Any] = [ev.Envelope(1, T0, "c0", ev.BrainCreated(name="b"))]
    neuron = 0
    for i, (new, links, erased) in enumerate(spec):
        tags, meta, expires, key, source = (
            more[i % len(more)] if more else (["t"] if i % 2 else [], {}, None, "k", "api")
        )
        limit = neuron + 1 + new
        targets = [int(share * limit) for share, _, _ in links]
        types = [kind for _, kind, _ in links]
        weights = [w for _, _, w in links]
        columns: dict[str, Any] = (
            {"links": ev.pack_links(targets, types, weights)}
            if packed
            else {"link_targets": targets, "link_types": types, "link_weights": weights}
        )
        body = ev.MemoryEncoded(
            fiber_id=f"m{i}", text=f"memory {i}", first_neuron=neuron, event_start=T0 + i,
            event_end=T0 + i, memory_type="fact", priority=5, salience=0.5,
            neurons=[ev.NeuronSpec(2, key and f"{key}:{i}:{j}", f"w{j}{key}") for j in range(new)],
            erased=erased, tags=tags, meta=meta, expires_at=expires, source=source, **columns,
        )  # fmt: skip
        out.append(ev.Envelope(i + 2, T0 + 10 * i + 10, f"c{i + 1}", body))
        neuron = limit
    return out


def as_schema_1(env: ev.Envelope) -> ev.Envelope:
    """The record as a schema-1 log stored it, read back through `decode`."""
    raw = msgspec.to_builtins(env)
    raw["v"] = 1
    raw["body"].pop("links", None)
    return ev.decode(msgspec.msgpack.encode(raw))


@settings(max_examples=60, deadline=None)
@given(spec=memories, more=st.lists(extras, max_size=4))
def test_packed_links_fold_like_link_lists(spec: list[Any], more: list[Any]) -> None:
    """Runs take shortcuts when none of their records has tags, meta, an expiry or a key, or
    all do: runs of one record each take them or not record by record."""
    packed, listed = records(spec, packed=True, more=more), records(spec, packed=False, more=more)
    run = apply_all(Projection("b"), packed)
    one_by_one = Projection("b")
    for env in packed:
        apply(one_by_one, env)
    old_log = apply_all(Projection("b"), [as_schema_1(e) for e in listed])
    assert state_bytes(run) == state_bytes(one_by_one) == state_bytes(old_log)
    assert run.keys == one_by_one.keys == old_log.keys
    live = apply(Projection("b"), packed[0])
    assert live.ids == {}  # built before the memories: the fold keeps it
    assert apply_all(live, packed[1:]).ids == run.ids == {f"m{i}": i for i in range(len(spec))}
    assert run.s_dst.values.tolist() == [
        t
        for e in listed[1:]
        for t in e.body.link_targets  # type: ignore[union-attr]
    ]
    # what a history shows is the same either way
    assert [ev.to_jsonable(e) for e in packed] == [ev.to_jsonable(e) for e in listed]


def test_a_schema_1_record_is_read_as_schema_2() -> None:
    env = as_schema_1(records([(1, [(0.5, 3, 1.0)], False)], packed=False)[1])
    assert env.v == ev.SCHEMA_VERSION
    assert env.body.link_targets == [1]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"links": b"\0" * (ev.LINK.itemsize - 1)}, "cut short"),
        ({"link_targets": [0]}, "doubled"),
        ({"links": ev.pack_links([9], [1], [1.0])}, "unknown neuron"),
        ({"links": b"", "link_targets": [0], "link_types": []}, "differ in length"),
        ({"links": b"", "link_targets": [-1], "link_types": [1], "link_weights": [1.0]},
         "unknown neuron"),
        ({"fiber_id": "m0"}, "already exists"),
        ({"first_neuron": 5}, "expects neuron"),
    ],
)  # fmt: skip
def test_a_bad_memory_record_is_refused_and_nothing_is_folded(
    change: dict[str, Any], message: str
) -> None:
    envs = records([(1, [(0.5, 3, 1.0)], False)] * 3, packed=True)
    bad = envs[3]
    envs[3] = msgspec.structs.replace(bad, body=msgspec.structs.replace(bad.body, **change))
    p = apply_all(Projection("b"), envs[:2])
    assert p.ids == {"m0": 0}  # a live brain's index, which the fold keeps
    before = state_bytes(p)
    with pytest.raises(IntegrityError, match=f"seq 4: .*{message}"):
        apply_all(p, envs[2:])
    assert state_bytes(p) == before
    assert p.ids == {"m0": 0}  # the id index holds no memory of the refused run


@pytest.mark.parametrize("same_run", [True, False])
def test_a_repeated_id_is_refused_with_the_index_unbuilt(same_run: bool) -> None:
    """A replay leaves the id index to its first use: a repeat within a run is refused by
    the fold, one across runs when the index is built."""
    envs = records([(1, [(0.5, 3, 1.0)], False)] * 3, packed=True)
    envs[3] = msgspec.structs.replace(
        envs[3], body=msgspec.structs.replace(envs[3].body, fiber_id="m0")
    )
    if same_run:
        with pytest.raises(IntegrityError, match="seq 4: memory id m0 already exists"):
            apply_all(Projection("b"), envs)
        return
    p = apply_all(apply_all(Projection("b"), envs[:3]), envs[3:])
    with pytest.raises(IntegrityError, match="share an id"):
        p.ids  # noqa: B018
