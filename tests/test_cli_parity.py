"""The command line as a user of the original NeuralMemory (and of good CLIs) expects it: bad
bytes are one line, reads create nothing, global options anywhere, the original's spellings,
status/doctor/today/last, every appended event reported, readable diffs, erase that asks.

Most run `main(argv)` in-process on a temporary store; a few run the installed `nmem` (stdin
from a real pipe, a real terminal through a pty, fish completing the generated script).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pty
import random
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import NMEM
from services import need

from adapters.cli.main import build_parser, main
from engine import Store


class Run:
    """`nmem ARGS --store STORE` in-process: exit code, stdout, stderr."""

    def __init__(self, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.store = store
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main([*args, "--store", str(self.store)])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)

    def fails(self, code: int, *args: str) -> str:
        got, out, err = self(*args)
        assert got == code, (args, out, err)
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("nmem: error: ")
        return err


@pytest.fixture
def nmem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(tmp_path / "store", capsys)


def stdin_of(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# -- bad bytes ----------------------------------------------------------------------------------

NOISE = random.Random(7).randbytes(20_000)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (NOISE, "binary data"),
        (NOISE.replace(b"\0", b""), "not UTF-8 text"),
        (b"caf\xc3\xa9 na\xefve", "byte 0xef at offset 8"),
    ],
)
def test_bad_bytes_on_standard_input_are_one_line_and_store_nothing(
    nmem: Run, monkeypatch: pytest.MonkeyPatch, data: bytes, says: str
) -> None:
    for args in (("remember", "-"), ("remember",), ("todo", "-"), ("check", "-")):
        stdin_of(monkeypatch, data)
        assert says in nmem.fails(2, *args)
    assert not nmem.store.exists()  # refused before anything was opened


def test_utf8_standard_input_and_file_are_read(
    nmem: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stdin_of(monkeypatch, "\ufeffCafé naïve, from a pipe\n".encode())
    piped = nmem.json("remember")  # no text: a pipe is read
    note = tmp_path / "note.txt"
    note.write_text("Naïve note from a file", encoding="utf-8")
    filed = nmem.json("remember", "--file", str(note))
    assert nmem.json("show", piped["id"])["text"] == "Café naïve, from a pipe"
    assert nmem.json("show", filed["id"])["text"] == "Naïve note from a file"
    note.write_bytes(b"caf\xe9")
    assert "is not UTF-8 text" in nmem.fails(2, "remember", "--file", str(note))
    assert "not both" in nmem.fails(2, "remember", "x", "--file", str(note))
    assert "cannot read" in nmem.fails(2, "remember", "--file", str(tmp_path / "missing"))


def test_an_argument_that_is_not_utf8_is_refused(nmem: Run) -> None:
    # how Python hands over the bytes of a non-UTF-8 argument (surrogateescape)
    err = nmem.fails(2, "remember", "caf\udce9")
    assert "not UTF-8 text" in err
    assert "0xe9" in err
    assert not nmem.store.exists()
    assert "tag" in nmem.fails(2, "remember", "fine", "-t", "ok", "-t", "b\udcffd")


def test_output_a_terminal_cannot_encode_is_escaped_not_a_traceback(
    nmem: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    nmem.json("remember", "Café in Hà Nội")
    for args, shown in ((("list",), "Caf\\xe9"), (("list", "--json"), "\\u00e9")):
        raw = io.BytesIO()
        ascii_out = io.TextIOWrapper(raw, encoding="ascii")
        monkeypatch.setattr("sys.stdout", ascii_out)
        assert main([*args, "--store", str(nmem.store)]) == 0
        ascii_out.flush()
        text = raw.getvalue().decode("ascii")
        assert shown in text
    assert json.loads(text)["memories"][0]["text"] == "Café in Hà Nội"


def test_piped_noise_through_the_installed_nmem_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "NMEM_HOME": str(tmp_path / "home")}
    for data in (NOISE, b"caf\xc3\xa9 na\xefve"):
        done = subprocess.run([NMEM, "remember", "-"], input=data, capture_output=True, env=env,
                              timeout=60, check=False)  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.splitlines()) == 1
        assert b"Traceback" not in done.stderr
    assert not (tmp_path / "home").exists()


# -- reads create nothing -----------------------------------------------------------------------

READS = [
    ("stats", "--brain", "nosuch"),
    ("recall", "anything", "--brain", "typo2"),
    ("list", "--brain", "typo3"),
    ("history",),
    ("context",),
    ("show", "abcd1234"),
    ("today",),
    ("last",),
    ("status",),
    ("diff", "--from", "1"),
    ("export", "out.json"),
    ("edit", "abcd1234", "--priority", "3"),
    ("forget", "abcd1234"),
    ("pin", "abcd1234"),
    ("decay",),
    ("cleanup",),
    ("brain", "use", "work"),
    ("brain", "config"),
    ("project", "list"),
]


def test_reads_of_an_empty_home_create_no_store(nmem: Run) -> None:
    for args in READS:
        assert "unknown brain" in nmem.fails(1, *args), args
        assert not nmem.store.exists(), args
    code, out, _ = nmem("brain", "list")
    assert code == 0
    assert "No brains yet" in out
    assert not nmem.store.exists()


def test_reads_of_an_unknown_brain_create_none_and_name_the_nearest(nmem: Run) -> None:
    nmem.json("remember", "Alice owns payments", "--brain", "work")
    nmem.json("remember", "Bob owns billing", "--brain", "personal")
    for args in READS:
        if "work" not in args:
            nmem.fails(1, *args)
    err = nmem.fails(1, "recall", "payments", "--brain", "wrok")
    assert "unknown brain 'wrok'; did you mean 'work'?" in err
    assert "did you mean 'personal'" in nmem.fails(1, "stats", "--brain", "persnal")
    assert "did you mean" not in nmem.fails(1, "list", "--brain", "zzz")
    with Store(nmem.store, create=False) as store:
        assert sorted(store.brain_names()) == ["personal", "work"]


# -- options and help ---------------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    for flag in ("--version", "-V"):
        with pytest.raises(SystemExit) as done:
            main([flag])
        assert done.value.code == 0
        assert capsys.readouterr().out.startswith("nmem 0.")
    done_sub = subprocess.run([NMEM, "-V"], capture_output=True, text=True, check=False)
    assert done_sub.returncode == 0
    assert done_sub.stdout.startswith("nmem ")


def test_global_options_go_before_or_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "s")
    assert main(["--store", store, "--brain", "x", "remember", "Alice owns payments"]) == 0
    capsys.readouterr()
    assert main(["--store", store, "--brain", "x", "--json", "stats"]) == 0
    assert json.loads(capsys.readouterr().out)["brain"] == "x"
    assert main(["stats", "--store", store, "--brain", "x", "-j"]) == 0
    assert json.loads(capsys.readouterr().out)["memories"] == 1
    assert main(["-j", "--store", store, "--brain", "nosuch", "stats", "--brain", "x"]) == 0
    assert json.loads(capsys.readouterr().out)["brain"] == "x"  # the later one wins


def test_usage_errors_point_at_the_commands_own_help(nmem: Run) -> None:
    assert "(see 'nmem recall --help')" in nmem.fails(2, "recall", "q", "--bogus")
    assert "(see 'nmem recall --help')" in nmem.fails(2, "recall")
    assert "(see 'nmem brain create --help')" in nmem.fails(2, "brain", "create")
    err = nmem.fails(2, "stat")
    assert "unknown command 'stat'; did you mean 'stats'?" in err
    assert "'remember'" not in err  # not the list of every command
    assert "did you mean 'forgotten'?" in nmem.fails(2, "list", "--status", "forgoten")


def test_fish_completion_is_offered_by_fish(tmp_path: Path) -> None:
    fish = shutil.which("fish")
    if fish is None:
        need("fish", "the fish shell runs the generated completion (.ci/setup.d/35-fish.sh)")
    script = tmp_path / "nmem.fish"
    done = subprocess.run([NMEM, "completion", "fish"], capture_output=True, text=True,
                          check=True)  # fmt: skip
    script.write_text(done.stdout)

    def offered(line: str) -> list[str]:
        out = subprocess.run(
            [fish, "--no-config", "-c", f"source {script}; complete -C '{line}'"],
            capture_output=True, text=True, check=True, cwd=tmp_path,
        )  # fmt: skip
        return [row.split("\t")[0] for row in out.stdout.splitlines()]

    assert "recall" in offered("nmem rec")
    assert sorted(offered("nmem brain ")) == ["config", "create", "delete", "list", "use"]
    assert "--use" in offered("nmem brain create --")
    assert "--status" not in offered("nmem brain list --")  # not `nmem list`'s options
    assert "--status" in offered("nmem --brain work list --")
    assert "--min-confidence" in offered("nmem recall --min")
    assert offered("nmem completion ") == ["bash", "fish", "tcsh", "zsh"]
    assert "history" in offered("nmem export --format ")
    assert "nmem.fish" not in offered("nmem export --format ")
    assert "nmem.fish" in offered("nmem import ")


def test_the_fish_script_covers_every_command() -> None:
    from adapters.cli.fish import fish_script

    parser = build_parser()
    script = fish_script(parser)
    [sub] = [a for a in parser._actions if a.dest == "command"]
    for name in sub.choices:  # type: ignore[union-attr]
        assert f"-n '__nmem_at ' -a {name} -d" in script
    assert "complete -c nmem -n '__nmem_at brain create' -l use" in script


# -- the original's spellings -------------------------------------------------------------------


def test_the_originals_spellings(nmem: Run, tmp_path: Path) -> None:
    a = nmem.json("remember", "Dana paged the on-call", "--timestamp", "2026-03-02T08:00:00")
    b = nmem.json("remember", "Eve restarted the broker", "--at", "2026-03-03T09:00:00")
    assert nmem.json("show", a["id"])["event_time"].startswith("2026-03-02T08:00:00")
    assert nmem.json("show", b["id"])["event_time"].startswith("2026-03-03T09:00:00")
    # on a write --at is when it happened; on a read it is still recorded time
    assert nmem("list", "--at", "2026-03-04")[0] == 1  # nothing was known then
    out = tmp_path / "brain.json"
    code, text, _ = nmem("export", str(out))
    assert code == 0
    assert "Exported 2 memories" in text
    assert len(json.loads(out.read_text())["fibers"]) == 2
    assert "not both" in nmem.fails(2, "export", str(out), "-o", str(out))
    assert len(nmem.json("recall", "on-call broker", "-l", "1")["memories"]) == 1


def test_recall_min_confidence(nmem: Run) -> None:
    nmem.json("remember", "Alice moved payments to PostgreSQL 16")
    nmem.json("remember", "The office plants need water on Fridays")
    sure = nmem.json("recall", "payments PostgreSQL", "--min-confidence", "0.01")
    assert sure["memories"]
    assert "below_min_confidence" not in sure
    code, out, _ = nmem("recall", "plants payments", "-c", "1")
    assert code == 1
    assert "No reliable answer: confidence" in out
    code, out, _ = nmem("recall", "plants payments", "-c", "1", "--json")
    unsure = json.loads(out)
    assert code == 1
    assert unsure["memories"] == []
    assert unsure["below_min_confidence"] is True
    assert "from 0 to 1" in nmem.fails(2, "recall", "x", "-c", "1.5")


# -- views: today, last, status, doctor ---------------------------------------------------------


def test_today_and_last(nmem: Run) -> None:
    old = nmem.json("remember", "Frank shipped 2.3", "--time", "3 days ago")
    now = nmem.json("remember", "Grace shipped 2.4")
    todo = nmem.json("todo", "Heidi writes the notes")
    today = nmem.json("today")
    assert [m["id"] for m in today["memories"]] == [todo["id"], now["id"]]
    assert today["since"] is not None  # says which window it read (event time)
    assert [m["id"] for m in nmem.json("last", "-n", "2")["memories"]] == [todo["id"], now["id"]]
    assert old["id"] in [m["id"] for m in nmem.json("last", "-n", "5")["memories"]]


def test_status_and_doctor(nmem: Run) -> None:
    nmem.json("remember", "Alice owns payments", "--brain", "work")
    nmem.json("todo", "Rotate the keys", "--brain", "work")
    nmem.json("brain", "create", "scratch")
    status = nmem.json("status", "--brain", "work")
    assert (status["brain"], status["memories"], status["open_todos"]) == ("work", 2, 1)
    assert status["other_brains"] == ["scratch"]
    assert status["events"] == status["last_event"]["seq"]
    assert status["store_bytes"] > 0
    assert any("todo" in line for line in status["advice"])
    code, text, _ = nmem("status", "--brain", "work")
    assert code == 0
    assert "open todos" in text
    assert "last sweep" in text

    doctor = nmem.json("doctor", "--brain", "work")
    checks = {c["name"]: c["status"] for c in doctor["checks"]}
    assert doctor["ok"] is True
    assert {"python", "store", "brain", "log", "disk", "decay", "expiry"} <= set(checks)
    assert checks["store"] == checks["brain"] == checks["log"] == "pass"
    code, text, _ = nmem("doctor", "--brain", "wrok")
    assert code == 1
    assert "[FAIL] brain" in text
    assert "did you mean 'work'" in text


def test_doctor_on_an_empty_home_fails_and_creates_nothing(nmem: Run) -> None:
    code, out, _ = nmem("doctor", "--json")
    assert code == 1
    failed = [c for c in json.loads(out)["checks"] if c["status"] == "fail"]
    assert [c["name"] for c in failed] == ["store"]
    assert "nothing is stored" in failed[0]["detail"]
    assert not nmem.store.exists()


# -- edit, diff ---------------------------------------------------------------------------------


def test_edit_reports_every_event_it_appended(nmem: Run) -> None:
    m = nmem.json("remember", "Payments run on PostgreSQL 13")
    code, out, _ = nmem("edit", m["id"][:8], "--text", "Payments run on PostgreSQL 16",
                        "--priority", "8")  # fmt: skip
    lines = out.splitlines()
    assert code == 0
    assert len(lines) == 2
    assert "memory edited (event #3)" in lines[0]
    assert "memory retyped (event #4)" in lines[1]
    done = nmem.json("edit", m["id"][:8], "--text", "Payments run on PostgreSQL 17",
                     "--type", "decision")  # fmt: skip
    assert [e["event"] for e in done["events"]] == ["memory_edited", "memory_retyped"]
    code, out, _ = nmem("edit", m["id"][:8], "--priority", "8")  # already 8
    assert code == 0
    assert out.strip().endswith("nothing to change")


def test_diff_lists_memories_with_their_text_and_the_links_that_moved(
    nmem: Run,
) -> None:
    nmem.json("remember", "Kim tuned the payments service before the diff starts")
    start = nmem.json("stats")["seq"]
    for i in range(24):
        nmem.json("remember", f"Release note {i}: the billing job got faster")
    with Store(nmem.store) as store:
        brain = store.brain()
        brain.recall("Kim tuned the payments service")
        brain.flush()  # the recall's reinforcement of Kim's links, written as an event
    gone = nmem.json("list", "--limit", "1")["memories"][0]
    nmem.json("forget", gone["id"], "--hard", "--force")
    code, out, _ = nmem("diff", "--from", str(start))
    assert code == 0
    assert "added (24):" in out
    assert "Release note 0: the billing job got faster" in out
    assert "...and 19 more" in out
    assert "erased (1):" in out
    assert "(erased: no text left)" in out
    assert "links whose weight moved most" in out
    moves = [line for line in out.splitlines() if " -> " in line and "Kim tuned" in line]
    assert moves
    code, out, _ = nmem("diff", "--from", str(start), "--per-group", "30")
    assert "...and" not in out
    data = nmem.json("diff", "--from", str(start))
    assert data["memories"]["added"]["count"] == 24
    assert data["weights"]


# -- erase asks ---------------------------------------------------------------------------------


def test_forget_hard_off_a_terminal_needs_force(nmem: Run) -> None:
    m = nmem.json("remember", "Ivan's old phone number")
    assert "add --force" in nmem.fails(2, "forget", m["id"], "--hard")
    assert nmem.json("show", m["id"])["status"] == "active"
    assert nmem.json("forget", m["id"], "--hard", "--force")["event"] == "memory_erased"


def _on_a_terminal(store: Path, args: list[str], answer: bytes) -> tuple[int, str]:
    """Run the installed nmem with a pty as its terminal; answer its question."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([NMEM, *args, "--store", str(store)], stdin=follower,
                            stdout=follower, stderr=follower, close_fds=True)  # fmt: skip
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 30
    while b"[y/N]" not in seen and time.monotonic() < deadline:
        if select.select([leader], [], [], 1)[0]:
            seen += os.read(leader, 4096)
    os.write(leader, answer)
    code = proc.wait(timeout=30)
    while select.select([leader], [], [], 0.2)[0]:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    return code, seen.decode(errors="replace")


def test_forget_hard_asks_on_a_terminal(nmem: Run) -> None:
    m = nmem.json("remember", "Judy's old address")
    code, seen = _on_a_terminal(nmem.store, ["forget", m["id"], "--hard"], b"n\n")
    assert "Erase" in seen
    assert "Judy's old address" in seen
    assert "cannot be undone" in seen
    assert code == 1
    assert "nothing erased" in seen
    assert nmem.json("show", m["id"])["status"] == "active"
    code, seen = _on_a_terminal(nmem.store, ["forget", m["id"], "--hard"], b"y\n")
    assert code == 0
    assert "memory erased" in seen
    assert nmem.json("show", m["id"])["status"] == "erased"


def test_an_event_time_still_to_come_is_said(nmem: Run) -> None:
    code, _, err = nmem("remember", "Dana presents the roadmap", "--time", "in 5 hours")
    assert code == 0
    assert "nmem: note: the event time is 5 hours ahead" in err
    _, _, err = nmem("remember", "Dana presented the budget", "--time", "5 hours ago")
    assert "note" not in err


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every command's parser by its words (('recall',), ('brain', 'list'), ...)."""
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[(*path, name)] = sub
                found.update(_commands(sub, (*path, name)))
    return found


def _shape(parser: argparse.ArgumentParser) -> list[tuple[Any, ...]]:
    return [(a.option_strings, a.dest, a.default, a.nargs, a.choices, a.help, a.required)
            for a in parser._actions if not isinstance(a, argparse._SubParsersAction)]  # fmt: skip


def test_the_parser_of_one_command_line_is_the_whole_parser_for_it() -> None:
    """`nmem` builds only the commands its command line names (the others are names and
    help): each command parses as in the whole parser, and the help lists are the same."""
    whole = build_parser()
    every = _commands(whole)
    assert len(every) > 40
    for words, sub in every.items():
        mine = _commands(build_parser(["--brain", "b", *words, "x"]))[words]
        assert _shape(mine) == _shape(sub), words
        assert mine.format_help() == sub.format_help(), words
        assert mine._defaults == sub._defaults, words
    assert build_parser(["--help"]).format_help() == whole.format_help()
    assert build_parser(["brain", "--help"]).format_help() == whole.format_help()
    assert _shape(_commands(build_parser(["recall", "x"]))[("remember",)]) == []  # not built
