"""Shared test helpers (pytest puts this folder on sys.path)."""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import strategies as st

from engine import Store
from engine import events as ev
from engine.clock import DAY_US, to_us
from engine.fold import apply
from engine.model import NEURON_TYPES, SYNAPSE_TYPES, NeuronType, SynapseType
from engine.projection import Projection


def _installed_nmem() -> str:
    """The `nmem` script installed beside the interpreter running the tests, so the suites run
    without the virtualenv on PATH; a missing one fails those suites loudly instead of skipping."""
    beside = Path(sys.executable).with_name("nmem")
    return str(beside) if beside.exists() else shutil.which("nmem") or "nmem (not installed)"


NMEM = _installed_nmem()


class Clock:
    """A settable clock, so tests can let days pass."""

    def __init__(self) -> None:
        self.t = to_us(datetime(2026, 5, 4, 9, 0, tzinfo=UTC))

    def __call__(self) -> int:
        self.t += 1
        return self.t

    def advance(self, days: float) -> None:
        self.t += int(days * DAY_US)


def replayed(store: Store, brain_id: str, upto: int | None = None) -> Projection:
    """A fresh projection folded event by event from the log (up to seq `upto`): the oracle
    that live state and past views are compared with."""
    p = Projection(brain_id)
    with store.log.reader() as r:
        for env in r.events(brain_id, 0, upto):
            apply(p, env)
    return p


_CONCEPT = NEURON_TYPES.index(NeuronType.CONCEPT)
_RELATED = SYNAPSE_TYPES.index(SynapseType.RELATED_TO)
_AFTER = SYNAPSE_TYPES.index(SynapseType.AFTER)


def fold_memory(
    p: Projection,
    anchors: list[int],
    words: list[int],
    back: list[int],
    *,
    varied: bool = False,
    t: int = 1,
) -> None:
    """Fold memory m<i> (i: memories so far) linked to words w<k> (new neurons where the
    projection has none yet) and, by `after` links, to the memories `back` steps before it;
    its anchor neuron is appended to `anchors`. Links weigh 1, or (`varied`) 0.5 + 0.05 *
    (j % 7) for the j-th. `t`: the event's recorded time."""
    first = p.neuron_count
    neurons: list[ev.NeuronSpec] = []
    targets: list[int] = []
    for w in words:
        idx = p.keys.get(f"k:w{w}")
        if idx is None:
            idx = first + 1 + len(neurons)
            neurons.append(ev.NeuronSpec(_CONCEPT, f"k:w{w}", f"w{w}"))
        targets.append(idx)
    types = [_RELATED] * len(targets)
    for k in back:
        if k <= len(anchors):
            targets.append(anchors[-k])
            types.append(_AFTER)
    body = ev.MemoryEncoded(
        fiber_id=f"m{len(anchors)}",
        text=f"m{len(anchors)}",
        first_neuron=first,
        event_start=0,
        event_end=0,
        memory_type="fact",
        priority=5,
        salience=0.5,
        neurons=neurons,
        link_targets=targets,
        link_types=types,
        link_weights=[0.5 + 0.05 * (j % 7) if varied else 1.0 for j in range(len(targets))],
    )
    apply(p, ev.Envelope(p.seq + 1, t, "c", body))
    anchors.append(first)


def texts_of(
    words: list[str], pieces: int, joiners: tuple[str, ...] = ("",)
) -> st.SearchStrategy[str]:
    """Any short text, or `words` and scraps of text strung together with each of `joiners`:
    where a pattern rewritten for speed must still match what the plain one matched."""
    piece = st.one_of(st.sampled_from(words), st.text(max_size=3))
    strung = (st.lists(piece, max_size=pieces).map(joiner.join) for joiner in joiners)
    return st.one_of(st.text(max_size=60), *strung)
