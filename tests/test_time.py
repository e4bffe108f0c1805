"""Time as a user reads it: `--at` is recorded time (what the brain knew then), `--since` and
`--until` are event time (what happened then), and every read says which it used; typed
phrases resolve the way a person means them (past phrases to the past, "yesterday 3pm",
"12/01/2026", "3d", "in 2 days"); an event time far in the future is refused."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from adapters.cli.main import main
from engine import InputError, MemoryInput, Store
from engine.clock import to_us
from engine.extraction.temporal import extract_time_hints, parse_period, yearless

# a Wednesday, 04:17 local time: before the morning has begun
NOW = datetime(2026, 12, 2, 4, 17).astimezone()
TZ = NOW.tzinfo


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=TZ)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("phrase", "prefer", "start", "end"),
    [
        ("this morning", "past", local(2026, 12, 2), local(2026, 12, 2, 12)),
        ("yesterday 3pm", "past", local(2026, 12, 1, 15), local(2026, 12, 1, 16)),
        ("3pm yesterday", "past", local(2026, 12, 1, 15), local(2026, 12, 1, 16)),
        ("yesterday at 15:30", "past", local(2026, 12, 1, 15, 30), local(2026, 12, 1, 15, 31)),
        ("last Monday at 10am", "past", local(2026, 11, 30, 10), local(2026, 11, 30, 11)),
        ("3pm", "past", local(2026, 12, 1, 15), local(2026, 12, 1, 16)),  # the latest one past
        ("3pm", "future", local(2026, 12, 2, 15), local(2026, 12, 2, 16)),
        ("12/01/2026", "past", local(2026, 1, 12), local(2026, 1, 13)),  # day first
        ("01/13/2026", "past", local(2026, 1, 13), local(2026, 1, 14)),  # 13 is no month
        ("12.01.2026", "past", local(2026, 1, 12), local(2026, 1, 13)),
        ("2026/01/12", "past", local(2026, 1, 12), local(2026, 1, 13)),
        ("3d", "past", NOW - timedelta(days=3), NOW - timedelta(days=3)),
        ("3d", "future", NOW + timedelta(days=3), NOW + timedelta(days=3)),
        ("2w", "past", NOW - timedelta(days=14), NOW - timedelta(days=14)),
        ("in 2 days", "future", NOW + timedelta(days=2), NOW + timedelta(days=2)),
        ("2 days from now", "future", NOW + timedelta(days=2), NOW + timedelta(days=2)),
        ("8 December", "past", local(2025, 12, 8), local(2025, 12, 9)),  # not next week
        ("8 December", "future", local(2026, 12, 8), local(2026, 12, 9)),
        ("2026-03-01", "past", local(2026, 3, 1), local(2026, 3, 2)),
    ],
)
def test_typed_phrases(phrase: str, prefer: str, start: datetime, end: datetime) -> None:
    assert parse_period(phrase, NOW, prefer) == (start, end)


def test_a_us_locale_reads_ambiguous_dates_month_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    assert parse_period("12/01/2026", NOW) == (local(2026, 12, 1), local(2026, 12, 2))
    assert parse_period("13/01/2026", NOW) == (local(2026, 1, 13), local(2026, 1, 14))


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("what happened between 11 and 15 August 2023?", local(2023, 8, 11), local(2023, 8, 16)),
        ("from 11 to 15 August 2023", local(2023, 8, 11), local(2023, 8, 16)),
        ("the 11-15 August 2023 offsite", local(2023, 8, 11), local(2023, 8, 16)),
        ("August 11-15, 2023", local(2023, 8, 11), local(2023, 8, 16)),
        ("between 28 July and 3 August 2023", local(2023, 7, 28), local(2023, 8, 4)),
        ("from March to May 2023", local(2023, 3, 1), local(2023, 6, 1)),
        ("what did we ship the first weekend of August 2023?", local(2023, 8, 5),
         local(2023, 8, 7)),
        ("the second week of November 2023", local(2023, 11, 8), local(2023, 11, 15)),
        ("the last week of March 2023", local(2023, 3, 25), local(2023, 4, 1)),
        ("during March 2023", local(2023, 3, 1), local(2023, 4, 1)),
        ("we met in August", local(2026, 8, 1), local(2026, 9, 1)),
        ("what happened from Aug 11 to Aug 15, 2023?", local(2023, 8, 11), local(2023, 8, 16)),
        ("between May 15 and May 19, 2023", local(2023, 5, 15), local(2023, 5, 20)),
        ("in early August 2023", local(2023, 8, 1), local(2023, 8, 11)),
        ("mid-August 2023", local(2023, 8, 11), local(2023, 8, 21)),
        ("late February 2024", local(2024, 2, 21), local(2024, 3, 1)),
        ("by the end of May 2023", local(2023, 5, 21), local(2023, 6, 1)),
        ("the summer of 2023", local(2023, 6, 1), local(2023, 9, 1)),
        ("in autumn 2023", local(2023, 9, 1), local(2023, 12, 1)),
        ("winter 2023", local(2022, 12, 1), local(2023, 3, 1)),
    ],
)  # fmt: skip
def test_periods_in_text(text: str, start: datetime, end: datetime) -> None:
    [hint] = extract_time_hints(text, NOW)
    assert (hint.start, hint.end) == (start, end)


def test_questions_read_periods_in_the_past() -> None:
    [hint] = extract_time_hints("what did we do during March?", NOW, prefer="past")
    assert (hint.start, hint.end) == (local(2026, 3, 1), local(2026, 4, 1))
    [hint] = extract_time_hints("the first weekend of December", NOW, prefer="past")
    assert hint.start == local(2025, 12, 6)  # this December's first weekend is still to come


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("what did we do in the summer?", local(2026, 6, 1), local(2026, 9, 1)),
        ("last winter", local(2025, 12, 1), local(2026, 3, 1)),  # this one has just begun
        ("in mid March", local(2026, 3, 11), local(2026, 3, 21)),
    ],
)
def test_questions_read_seasons_and_parts_of_months_in_the_past(
    text: str, start: datetime, end: datetime
) -> None:
    [hint] = extract_time_hints(text, NOW, prefer="past")
    assert (hint.start, hint.end) == (start, end)


@pytest.mark.parametrize(
    "text", ["the summer hackathon", "we fall behind", "the end of the day", "spring cleaning"]
)
def test_season_and_part_words_alone_are_no_time(text: str) -> None:
    assert extract_time_hints(text, NOW) == []


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("the first weekend of August", True),
        ("in March", True),
        ("mid-August", True),
        ("in the summer", True),
        ("August 2023", False),
        ("last summer", False),
        ("last week", False),
        ("yesterday", False),
    ],
)
def test_yearless_periods(text: str, named: bool) -> None:
    [hint] = extract_time_hints(text, NOW, prefer="past")
    assert yearless(hint) is named


def test_at_this_morning_before_dawn_is_not_the_future(store_path: Path) -> None:
    with Store(store_path, clock=lambda: to_us(NOW)) as store:
        brain = store.brain("t")
        brain.remember("Alice restarted the payments cluster", event_time=NOW - timedelta(hours=5))
        view = brain.at("this morning")
        assert view.time == local(2026, 12, 2)
        brain.remember("Bob paged the on-call", event_time=NOW - timedelta(hours=1))
        got = brain.memories(since="this morning")
        assert [m.text for m in got] == ["Bob paged the on-call"]  # 03:17; 23:17 was before


def test_a_far_future_event_time_is_refused(store: Store) -> None:
    brain = store.brain("t")
    with pytest.raises(InputError, match="days ahead"):
        brain.remember("the launch", event_time=datetime.now().astimezone().replace(year=2062))
    assert brain.memories() == []
    planned = datetime.now().astimezone() + timedelta(days=30)  # a plan a month ahead is fine
    assert brain.remember("the launch", event_time=planned).id


def cli(store: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main([*args, "--store", str(store)])
    return code, out.getvalue()


@pytest.fixture
def backdated(tmp_path: Path) -> Path:
    """Memories that happened 8 and 20 days ago, all told to the brain just now."""
    store = tmp_path / "store"
    assert cli(store, "remember", "Alice moved payments to PostgreSQL 16", "--time",
               "8 days ago")[0] == 0  # fmt: skip
    assert cli(store, "remember", "Bob rotated the payments keys", "--time", "20 days ago")[0] == 0
    assert cli(store, "remember", "Carol reviewed the payments runbook")[0] == 0
    return store


def test_at_is_recorded_time_and_says_so(backdated: Path) -> None:
    code, out = cli(backdated, "context", "--at", "yesterday")
    assert code == 1
    assert "No memories stored yet (as known at " in out
    assert "recorded time" in out
    assert "--since/--until" in out  # the way to what happened then
    code, out = cli(backdated, "recall", "payments", "--at", "yesterday")
    assert code == 1
    assert "recorded time" in out


def test_since_and_until_are_event_time(backdated: Path) -> None:
    code, out = cli(backdated, "context", "--since", "9 days ago", "--until", "7 days ago")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2
    assert "PostgreSQL 16" in lines[0]
    assert "what happened from " in lines[1]
    assert "(event time)" in lines[1]
    code, out = cli(backdated, "list", "--until", "1 week ago", "--json")
    data = json.loads(out)
    assert sorted(m["text"] for m in data["memories"]) == [
        "Alice moved payments to PostgreSQL 16", "Bob rotated the payments keys",
    ]  # fmt: skip
    assert data["since"] is None
    assert data["until"] is not None
    code, out = cli(backdated, "recall", "payments", "--since", "3w", "--until", "2w", "--json")
    result = json.loads(out)
    assert [m["text"] for m in result["memories"]] == ["Bob rotated the payments keys"]
    assert result["since"] is not None
    assert result["until"] is not None
    code, out = cli(backdated, "recall", "payments", "--since", "3w", "--until", "2w")
    assert "what happened from " in out


def test_until_a_day_takes_in_that_whole_day(store: Store) -> None:
    brain = store.brain("t")
    yesterday_evening = datetime.now().astimezone().replace(hour=20) - timedelta(days=1)
    brain.remember("the evening deploy", event_time=yesterday_evening)
    assert [m.text for m in brain.memories(until="yesterday")] == ["the evening deploy"]
    assert brain.memories(until="2 days ago") == []
    with pytest.raises(InputError, match="before until"):
        brain.memories(since="today", until="yesterday")


def test_expires_takes_durations_and_dates(tmp_path: Path) -> None:
    store = tmp_path / "store"
    now = datetime.now().astimezone()
    for value, days in (("3d", 3), ("in 2 weeks", 14), ("1.5", 1.5)):
        code, out = cli(store, "remember", f"expiring {value}", "--expires", value, "--json")
        assert code == 0
        expires = datetime.fromisoformat(json.loads(out)["expires_at"])
        assert abs((expires - now).total_seconds() - days * 86_400) < 120
    code, out = cli(store, "remember", "dated", "--expires", "2099-01-01", "--json")
    assert datetime.fromisoformat(json.loads(out)["expires_at"]).year in (2098, 2099)
    assert cli(store, "remember", "past", "--expires", "2020-01-01")[0] == 2


def test_reads_keep_their_engine_api(store: Store) -> None:
    brain = store.brain("t")
    old = brain.remember_many(
        [MemoryInput("Dana shipped the invoices export", event_time=NOW - timedelta(days=40))]
    )[0]
    brain.remember("Dana shipped the payments export")
    assert [m.memory.id for m in brain.recall("Dana shipped", until="1 month ago").memories] == [
        old.id
    ]
    assert [m.id for m in brain.context(until="1 month ago")] == [old.id]
