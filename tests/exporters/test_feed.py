"""The public event feed: `view.events(after, limit)`, what exporters and followers read."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine import InputError, Store


def test_feed_pages_through_the_log_and_a_past_view_ends_at_its_seq(store: Store) -> None:
    brain = store.brain("work")
    for i in range(5):
        brain.remember(f"memory number {i} about payments")
    seqs = [e.seq for e in brain.events()]
    assert seqs == list(range(1, brain.seq + 1))
    assert [e.seq for e in brain.events(after=2, limit=2)] == [3, 4]
    assert brain.events(after=brain.seq) == []
    past = brain.at(3)
    assert [e.seq for e in past.events()] == [1, 2, 3]
    assert past.events(after=3) == []
    assert type(brain.events(limit=1)[0].body).__name__ == "BrainCreated"


def test_feed_sees_what_another_process_committed(store: Store, store_path: object) -> None:
    brain = store.brain("work")
    head = brain.seq
    code = (
        "import sys\nfrom engine import Store\n"
        "with Store(sys.argv[1]) as s:\n    s.brain('work').remember('written elsewhere')\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(store_path)], capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (new,) = brain.events(after=head)
    assert new.body.text == "written elsewhere"  # type: ignore[union-attr]


@pytest.mark.parametrize(("after", "limit"), [(-1, None), (0, 0), (True, None), (0, -3)])
def test_feed_refuses_bad_bounds(store: Store, after: int, limit: int | None) -> None:
    with pytest.raises(InputError):
        store.brain("work").events(after=after, limit=limit)


def test_an_erased_text_is_not_in_the_feed(store: Store) -> None:
    brain = store.brain("work")
    secret = brain.remember("the vault combination is swordfish").id
    brain.remember("payments moved to postgres")
    brain.erase(secret)
    assert not any("swordfish" in repr(e) for e in brain.events())
