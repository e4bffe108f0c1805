"""The SQLite target as a user meets it: `nmem export --format sqlite`, plain SQL on the file,
an erased text in no byte of it, a killed export that resumes, a follower that catches up."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import NMEM

from engine import InputError, MemoryInput, Store
from engine.exporters import open_target
from engine.exporters.sync import export

ROOT = Path(__file__).resolve().parents[2]


def nmem(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NMEM, *args, "--store", str(store)], capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def test_cli_exports_then_applies_only_what_is_new(tmp_path: Path) -> None:
    store, db = tmp_path / "store", tmp_path / "work.db"
    assert nmem("remember", "Alice moved payments to PostgreSQL 16", store=store).returncode == 0
    first = nmem("export", "--format", "sqlite", "-o", str(db), "--json", store=store)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert (summary["from_seq"], summary["seq"], summary["memories"]) == (0, 2, 1)
    nmem("todo", "add retries to the webhook sender", store=store)
    again = json.loads(nmem("export", "--format", "sqlite", "-o", str(db), "--json",
                            store=store).stdout)  # fmt: skip
    assert (again["from_seq"], again["memories"]) == (2, 1)
    rows = (
        sqlite3.connect(db)
        .execute("SELECT text, memory_type FROM memories ORDER BY recorded_at")
        .fetchall()
    )
    assert rows == [("Alice moved payments to PostgreSQL 16", "fact"),
                    ("add retries to the webhook sender", "todo")]  # fmt: skip
    bad = nmem("export", "--format", "sqlite", "--url", "redis://x", store=store)
    assert bad.returncode == 2
    assert "give -o" in bad.stderr
    assert "Traceback" not in bad.stderr
    (tmp_path / "notes.txt").write_text("not a database")
    bad = nmem("export", "--format", "sqlite", "-o", str(tmp_path / "notes.txt"), store=store)
    assert bad.returncode == 2
    assert "not a SQLite database" in bad.stderr


def test_an_erased_text_is_in_no_byte_of_the_file(tmp_path: Path, store: Store) -> None:
    brain = store.brain("work")
    secret = "Zanzibar-Quokka-7731"
    brain.remember_many(MemoryInput(text=f"memory {i} about payments and invoices")
                        for i in range(300))  # fmt: skip
    victim = brain.remember(f"the vault phrase is {secret} for payments").id
    brain.edit(victim, text=f"the vault phrase is {secret} again, for payments")
    path = tmp_path / "x.db"
    target = open_target("sqlite", output=str(path))
    export(brain, target)
    assert secret.encode() in path.read_bytes()
    brain.erase(victim)
    export(brain, target)
    target.close()
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith("x.db")]
    assert leftovers == [path]  # no journal left beside it
    assert secret.encode() not in path.read_bytes()
    assert b"Zanzibar" not in path.read_bytes()
    (text,) = (
        sqlite3.connect(path)
        .execute("SELECT count(*) FROM memories WHERE status = 'erased'")
        .fetchone()
    )
    assert text == 1


EXPORTER = """
import sys
from engine import Store
from engine.exporters import open_target
from engine.exporters.sync import export

with Store(sys.argv[1]) as store:
    brain = store.brain("work")
    target = open_target("sqlite", output=sys.argv[2])
    export(brain, target, chunk=int(sys.argv[3]))
    target.close()
"""


def test_an_export_killed_mid_run_resumes_without_gaps_or_duplicates(tmp_path: Path) -> None:
    folder, path = tmp_path / "store", tmp_path / "x.db"
    with Store(folder) as store:
        brain = store.brain("work")
        for start in range(0, 3000, 500):
            brain.remember_many(MemoryInput(text=f"note {i} on payments, invoices and deploys")
                                for i in range(start, start + 500))  # fmt: skip
        head = brain.seq
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", EXPORTER, str(folder), str(path), "20"],
                            env=env)  # fmt: skip
    seq = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and seq < 200:  # wait until some batches are in
        time.sleep(0.02)
        try:
            row = sqlite3.connect(path, timeout=0.1).execute(
                "SELECT seq FROM export_positions").fetchone()  # fmt: skip
        except sqlite3.Error:
            continue
        seq = row[0] if row else 0
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    db = sqlite3.connect(path)
    (held,) = db.execute("SELECT seq FROM export_positions").fetchone()
    assert 0 < held < head, "the kill should land mid-run"
    assert db.execute("SELECT count(*), max(seq) FROM events").fetchone() == (held, held)
    db.close()
    done = subprocess.run([sys.executable, "-c", EXPORTER, str(folder), str(path), "500"],
                          env=env, check=False)  # fmt: skip
    assert done.returncode == 0
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*), min(seq), max(seq) FROM events").fetchone() == (
        head,
        1,
        head,
    )
    assert db.execute("SELECT count(*), count(DISTINCT id) FROM memories").fetchone() == (
        3000,
        3000,
    )
    assert db.execute("SELECT seq FROM export_positions").fetchone() == (head,)


def test_a_follower_applies_new_events_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    store, db = tmp_path / "store", tmp_path / "f.db"
    nmem("remember", "Alice moved payments to PostgreSQL 16", store=store)
    follower = subprocess.Popen(
        [NMEM, "export", "--format", "sqlite", "-o", str(db), "--follow", "--json",
         "--store", str(store)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:

        def memories() -> int:
            try:
                return int(sqlite3.connect(db, timeout=1).execute(
                    "SELECT count(*) FROM memories").fetchone()[0])  # fmt: skip
            except sqlite3.Error:
                return 0

        deadline = time.monotonic() + 60
        while memories() < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        follower.send_signal(signal.SIGSTOP)  # the follower misses a stretch...
        for i in range(5):
            nmem("remember", f"Bob deployed release {i} of the payments service", store=store)
        follower.send_signal(signal.SIGCONT)  # ...and catches up
        while memories() < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert memories() == 6
    finally:
        follower.send_signal(signal.SIGINT)
        out, err = follower.communicate(timeout=60)
    assert follower.returncode == 0, err
    summary = json.loads(out)
    assert summary["followed"] is True
    assert summary["seq"] == 7
    assert "Traceback" not in err


def test_a_file_of_another_schema_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    open_target("sqlite", output=str(path)).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE nmem_export SET value = '1' WHERE name = 'version'")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(InputError, match="export schema 1 of an earlier"):
        open_target("sqlite", output=str(path))
    assert path.read_bytes() == before
