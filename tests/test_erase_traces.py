"""An erase leaves nothing: not in the log, a checkpoint, a killed writer's temporary file, a
history export or a recall's anchors (issue 14).

Memories share made-up words with each other; they are erased in several orders, with
checkpoints and a checkpoint writer killed with SIGKILL (a real process) in between; after
`compact` every byte of every file of the store is read for every erased word that no
surviving memory uses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import NMEM

from engine import Store

ROOT = Path(__file__).resolve().parent.parent

# m0..m3 are erased, m4 and m5 survive: Plimbertz and Zentaroo stay (m4 uses them)
TEXTS = (
    "Quandorix4410 launch is on Friday with Vexmorath",
    "Budget for Quandorix4410 approved by Plimbertz and Drogwallow",
    "Vexmorath and Zentaroo review the Krellinthorpe numbers",
    "Drogwallow keeps the Krellinthorpe spreadsheet",
    "Plimbertz moved the Zentaroo offsite to Lisbon",
    "The team lunch is at noon",
)
ERASED_WORDS = ("Quandorix4410", "Vexmorath", "Drogwallow", "Krellinthorpe")
KEPT_WORDS = ("Plimbertz", "Zentaroo")

# A checkpoint writer that stops after writing its temporary file, before the rename: the
# parent kills it there with SIGKILL.
KILLED_WRITER = """
import os, sys, time
from engine import Store
from engine.logstore import files

real_replace = os.replace
def stall(src, dst):
    if ".tmp" in str(src):
        print("written", flush=True)
        time.sleep(60)
    real_replace(src, dst)
files.os.replace = stall

with Store(sys.argv[1]) as store:
    brain = store.brain("b")
    brain.recall("anything", reinforce=False)  # loads the projection
    brain.checkpoint()
"""


def kill_a_checkpoint_writer(store: Path) -> None:
    """Start a process that writes a checkpoint of brain b, kill -9 it mid-write."""
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(store)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "written"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=20) == -signal.SIGKILL


def leftovers(store: Path) -> list[Path]:
    return [f for f in (store / "checkpoints").rglob("*") if ".tmp" in f.name]


def store_bytes(store: Path) -> bytes:
    return b"".join(f.read_bytes() for f in sorted(store.rglob("*")) if f.is_file()).lower()


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (3, 2, 1, 0), (1, 3, 0, 2)])
def test_erased_words_are_in_no_file_after_compact(tmp_path: Path, order: tuple[int, ...]) -> None:
    path = tmp_path / "store"
    with Store(path) as store:
        brain = store.brain("b")
        ids = [brain.remember(t, tags=[f"t{i}"]).id for i, t in enumerate(TEXTS)]
        brain.edit(ids[3], TEXTS[3] + " for Drogwallow")  # an edit's record holds it too
        brain.recall("Vexmorath launch")
        brain.flush()
    kill_a_checkpoint_writer(path)
    assert leftovers(path), "the killed writer left no temporary file"
    for step, i in enumerate(order):
        with Store(path) as store:  # each open removes what dead writers left
            assert not leftovers(path)
            brain = store.brain("b")
            brain.erase(ids[i])
            brain.recall("Zentaroo Plimbertz")
            if step < len(order) - 1:
                brain.checkpoint()
    kill_a_checkpoint_writer(path)  # a checkpoint of the last head, never finished
    assert leftovers(path)
    export = tmp_path / "history.jsonl"
    done = subprocess.run(
        [NMEM, "export", "--store", str(path), "--brain", "b", "--format", "history",
         "-o", str(export)], capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for word in ERASED_WORDS:
        recalled = subprocess.run(
            [NMEM, "recall", word, "--store", str(path), "--brain", "b", "--json"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert recalled.returncode == 1, recalled.stderr  # 1: nothing found
        answer = json.loads(recalled.stdout)
        assert (answer["anchors"], answer["memories"]) == ([], []), word
    with Store(path) as store:
        store.compact()
        brain = store.brain("b")
        assert {m.id for m in brain.memories()} == {ids[4], ids[5]}
    assert not leftovers(path)
    data = store_bytes(path)
    history = export.read_bytes().lower()
    for word in ERASED_WORDS:
        assert word.lower().encode() not in data, f"{word} is still in the store"
        assert word.lower().encode() not in history, f"{word} is in the history export"
    for word in KEPT_WORDS:  # the oracle can see words: the surviving ones are there
        assert word.lower().encode() in data


def test_compact_removes_every_temporary_checkpoint(tmp_path: Path) -> None:
    """Even one named after a live process: compact has the store to itself."""
    path = tmp_path / "store"
    with Store(path) as store:
        store.brain("b").remember(TEXTS[0])
    kill_a_checkpoint_writer(path)
    [dead] = leftovers(path)
    mine = dead.with_suffix(f".tmp{os.getpid()}")  # another thread of this process, say
    dead.rename(mine)
    with Store(path) as store:
        assert leftovers(path) == [mine]  # a live writer's file is left alone at open
        store.compact()
    assert not leftovers(path)


def test_a_replica_that_receives_an_erase_redacts_it_as_the_server_does(tmp_path: Path) -> None:
    """The Follower's import of an erase redacts its replica's records (and the words that
    went with it) in place, like the server's erase; `nmem compact` then clears every file of
    either store (README: Guarantees)."""
    import httpx
    from services import serving

    from adapters.http_follow import Follower

    server, replica = tmp_path / "server", tmp_path / "replica"
    with serving(server) as url, httpx.Client(base_url=url, timeout=30) as api:
        ids = [api.post("/brains/b/memories", json={"text": t}).json()["id"] for t in TEXTS[:2]] + [
            api.post("/brains/b/memories", json={"text": TEXTS[4]}).json()["id"]
        ]
        with Follower(url, "b", local_store_path=replica) as follower:
            follower.sync()
            assert b"quandorix4410" in store_bytes(replica)
            for memory in ids[:2]:
                seq = api.delete(f"/brains/b/memories/{memory}").json()["seq"]
            assert follower.sync() == seq
    for path in (server, replica):
        with Store(path) as store:
            brain = store.brain("b")
            records = json.dumps([e.body for e in brain.events()], default=repr).lower()
            for word in ("Quandorix4410", "Vexmorath", "Drogwallow"):
                assert word.lower() not in records, (path, word)
        done = subprocess.run([NMEM, "compact", "--store", str(path)], capture_output=True,
                              text=True, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        data = store_bytes(path)
        for word in ("Quandorix4410", "Vexmorath", "Drogwallow"):
            assert word.lower().encode() not in data, (path, word)
        assert b"plimbertz" in data
