"""Time phrases: every phrase of the tables, the quirks fixed, timezones, and parse_moment."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.extraction import temporal
from engine.extraction.temporal import TimeHint, extract_time_hints, parse_moment

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
NEW_YORK = ZoneInfo("America/New_York")
ZONES = [UTC, HCM]

# Reference: Sunday 2024-02-04 14:30, read in each zone's own wall clock.
D = tuple[int, ...]  # (year, month, day[, hour[, minute]]) in the reference's zone
REF: D = (2024, 2, 4, 14, 30)


def at(tz: tzinfo, t: D) -> datetime:
    y, mo, d, *hm = t
    hour, minute = [*hm, 0, 0][:2]
    return datetime(y, mo, d, hour, minute, tzinfo=tz)


def ref_in(tz: tzinfo) -> datetime:
    return at(tz, REF)


REF_UTC = ref_in(UTC)


def only(text: str, ref: datetime) -> TimeHint:
    hints = extract_time_hints(text, ref)
    assert len(hints) == 1, hints
    return hints[0]


# phrase -> (start, end, granularity, fuzzy)
ENGLISH: dict[str, tuple[D, D, str, bool]] = {
    "today": ((2024, 2, 4), (2024, 2, 5), "day", False),
    "yesterday": ((2024, 2, 3), (2024, 2, 4), "day", False),
    "day before yesterday": ((2024, 2, 2), (2024, 2, 3), "day", False),
    "tomorrow": ((2024, 2, 5), (2024, 2, 6), "day", False),
    "day after tomorrow": ((2024, 2, 6), (2024, 2, 7), "day", False),
    "this morning": ((2024, 2, 4, 6), (2024, 2, 4, 12), "hour", False),
    "this afternoon": ((2024, 2, 4, 12), (2024, 2, 4, 18), "hour", False),
    "this evening": ((2024, 2, 4, 18), (2024, 2, 4, 22), "hour", False),
    "tonight": ((2024, 2, 4, 18), (2024, 2, 5, 6), "hour", False),
    "yesterday morning": ((2024, 2, 3, 6), (2024, 2, 3, 12), "hour", False),
    "yesterday afternoon": ((2024, 2, 3, 12), (2024, 2, 3, 18), "hour", False),
    "yesterday evening": ((2024, 2, 3, 18), (2024, 2, 3, 22), "hour", False),
    "last night": ((2024, 2, 3, 18), (2024, 2, 4, 6), "hour", False),
    "tomorrow morning": ((2024, 2, 5, 6), (2024, 2, 5, 12), "hour", False),
    "this week": ((2024, 1, 29), (2024, 2, 5), "week", False),
    "last week": ((2024, 1, 22), (2024, 1, 29), "week", False),
    "next week": ((2024, 2, 5), (2024, 2, 12), "week", False),
    "this month": ((2024, 2, 1), (2024, 3, 1), "month", False),
    "last month": ((2024, 1, 1), (2024, 2, 1), "month", False),
    "next month": ((2024, 3, 1), (2024, 4, 1), "month", False),
    "this year": ((2024, 1, 1), (2025, 1, 1), "year", False),
    "last year": ((2023, 1, 1), (2024, 1, 1), "year", False),
    "next year": ((2025, 1, 1), (2026, 1, 1), "year", False),
    "just now": ((2024, 2, 4, 12, 30), REF, "hour", True),
    "recently": ((2024, 1, 28, 14, 30), REF, "week", True),
    "lately": ((2024, 1, 28, 14, 30), REF, "week", True),
    "earlier": ((2024, 2, 4), (2024, 2, 4, 13, 30), "hour", True),
    "earlier today": ((2024, 2, 4), (2024, 2, 4, 13, 30), "hour", True),
    "10 minutes ago": ((2024, 2, 4, 14, 15), (2024, 2, 4, 14, 25), "minute", False),
    "3 minutes ago": ((2024, 2, 4, 14, 22), REF, "minute", False),
    "3 hours ago": ((2024, 2, 4, 11), (2024, 2, 4, 12), "hour", False),
    "an hour ago": ((2024, 2, 4, 13), (2024, 2, 4, 14), "hour", False),
    "twelve hours ago": ((2024, 2, 4, 2), (2024, 2, 4, 3), "hour", False),
    "2 days ago": ((2024, 2, 2), (2024, 2, 3), "day", False),
    "two days ago": ((2024, 2, 2), (2024, 2, 3), "day", False),
    "a week ago": ((2024, 1, 22), (2024, 1, 29), "week", False),
    "two weeks ago": ((2024, 1, 15), (2024, 1, 22), "week", False),
    "3 months ago": ((2023, 11, 1), (2023, 12, 1), "month", False),
    "2 years ago": ((2022, 1, 1), (2023, 1, 1), "year", False),
    "the past 3 days": ((2024, 2, 1), REF, "day", False),
    "the past week": ((2024, 1, 28), REF, "week", False),
    "the last two months": ((2023, 12, 4), REF, "month", False),
    "the past 24 hours": ((2024, 2, 3, 14, 30), REF, "hour", False),
    "last Tuesday": ((2024, 1, 30), (2024, 1, 31), "day", False),
    "on Tuesday": ((2024, 1, 30), (2024, 1, 31), "day", False),
    "this Tuesday": ((2024, 1, 30), (2024, 1, 31), "day", False),
    "next Tuesday": ((2024, 2, 6), (2024, 2, 7), "day", False),
    "last Sunday": ((2024, 1, 28), (2024, 1, 29), "day", False),
    "on Sunday": ((2024, 2, 4), (2024, 2, 5), "day", False),
    "next Sunday": ((2024, 2, 11), (2024, 2, 12), "day", False),
    "last Saturday": ((2024, 2, 3), (2024, 2, 4), "day", False),
    "the weekend": ((2024, 2, 3), (2024, 2, 5), "day", False),
    "this weekend": ((2024, 2, 3), (2024, 2, 5), "day", False),
    "last weekend": ((2024, 1, 27), (2024, 1, 29), "day", False),
    "next weekend": ((2024, 2, 10), (2024, 2, 12), "day", False),
    "8 May 2023": ((2023, 5, 8), (2023, 5, 9), "day", False),
    "8th of May, 2023": ((2023, 5, 8), (2023, 5, 9), "day", False),
    "May 8, 2023": ((2023, 5, 8), (2023, 5, 9), "day", False),
    "Sept 30th 2021": ((2021, 9, 30), (2021, 10, 1), "day", False),
    "May 8": ((2024, 5, 8), (2024, 5, 9), "day", False),
    "2023-05-08": ((2023, 5, 8), (2023, 5, 9), "day", False),
    "May 2023": ((2023, 5, 1), (2023, 6, 1), "month", False),
    "in 2022": ((2022, 1, 1), (2023, 1, 1), "year", False),
    "since 1999": ((1999, 1, 1), (2000, 1, 1), "year", False),
    "1:56 pm on 8 May, 2023": ((2023, 5, 8, 13, 56), (2023, 5, 8, 13, 57), "minute", False),
    "8 May 2023 at 3pm": ((2023, 5, 8, 15), (2023, 5, 8, 16), "hour", False),
    "2023-05-08T12:00": ((2023, 5, 8, 12), (2023, 5, 8, 12, 1), "minute", False),
}

VIETNAMESE: dict[str, tuple[D, D, str, bool]] = {
    "hôm nay": ((2024, 2, 4), (2024, 2, 5), "day", False),
    "hôm qua": ((2024, 2, 3), (2024, 2, 4), "day", False),
    "hôm kia": ((2024, 2, 2), (2024, 2, 3), "day", False),
    "ngày mai": ((2024, 2, 5), (2024, 2, 6), "day", False),
    "ngày kia": ((2024, 2, 6), (2024, 2, 7), "day", False),
    "sáng nay": ((2024, 2, 4, 6), (2024, 2, 4, 12), "hour", False),
    "trưa nay": ((2024, 2, 4, 11), (2024, 2, 4, 14), "hour", False),
    "chiều nay": ((2024, 2, 4, 14), (2024, 2, 4, 18), "hour", False),
    "tối nay": ((2024, 2, 4, 18), (2024, 2, 4, 22), "hour", False),
    "đêm nay": ((2024, 2, 4, 22), (2024, 2, 5, 6), "hour", False),
    "sáng qua": ((2024, 2, 3, 6), (2024, 2, 3, 12), "hour", False),
    "chiều qua": ((2024, 2, 3, 14), (2024, 2, 3, 18), "hour", False),
    "tối qua": ((2024, 2, 3, 18), (2024, 2, 3, 22), "hour", False),
    "sáng hôm qua": ((2024, 2, 3, 6), (2024, 2, 3, 12), "hour", False),
    "tối hôm qua": ((2024, 2, 3, 18), (2024, 2, 3, 22), "hour", False),
    "đêm qua": ((2024, 2, 3, 22), (2024, 2, 4, 6), "hour", False),
    "sáng mai": ((2024, 2, 5, 6), (2024, 2, 5, 12), "hour", False),
    "tuần này": ((2024, 1, 29), (2024, 2, 5), "week", False),
    "tuần trước": ((2024, 1, 22), (2024, 1, 29), "week", False),
    "tuần rồi": ((2024, 1, 22), (2024, 1, 29), "week", False),
    "tuần sau": ((2024, 2, 5), (2024, 2, 12), "week", False),
    "tuần tới": ((2024, 2, 5), (2024, 2, 12), "week", False),
    "tháng này": ((2024, 2, 1), (2024, 3, 1), "month", False),
    "tháng trước": ((2024, 1, 1), (2024, 2, 1), "month", False),
    "tháng rồi": ((2024, 1, 1), (2024, 2, 1), "month", False),
    "tháng sau": ((2024, 3, 1), (2024, 4, 1), "month", False),
    "năm nay": ((2024, 1, 1), (2025, 1, 1), "year", False),
    "năm ngoái": ((2023, 1, 1), (2024, 1, 1), "year", False),
    "năm sau": ((2025, 1, 1), (2026, 1, 1), "year", False),
    "vừa xong": ((2024, 2, 4, 12, 30), REF, "hour", True),
    "vừa mới": ((2024, 2, 4, 12, 30), REF, "hour", True),
    "mới đây": ((2024, 1, 28, 14, 30), REF, "week", True),
    "gần đây": ((2024, 1, 28, 14, 30), REF, "week", True),
    "nãy": ((2024, 2, 4, 10, 30), (2024, 2, 4, 14), "hour", True),
    "lúc nãy": ((2024, 2, 4, 10, 30), (2024, 2, 4, 14), "hour", True),
    "3 giờ chiều": ((2024, 2, 4, 15), (2024, 2, 4, 16), "hour", False),
    "8h sáng": ((2024, 2, 4, 8), (2024, 2, 4, 9), "hour", False),
    "10 giờ": ((2024, 2, 4, 10), (2024, 2, 4, 11), "hour", False),
    "3h30 chiều": ((2024, 2, 4, 15, 30), (2024, 2, 4, 15, 31), "minute", False),
    "12 giờ trưa": ((2024, 2, 4, 12), (2024, 2, 4, 13), "hour", False),
    "1 giờ trưa": ((2024, 2, 4, 13), (2024, 2, 4, 14), "hour", False),
    "8 giờ tối": ((2024, 2, 4, 20), (2024, 2, 4, 21), "hour", False),
    "3h chiều qua": ((2024, 2, 3, 15), (2024, 2, 3, 16), "hour", False),
    "8h sáng mai": ((2024, 2, 5, 8), (2024, 2, 5, 9), "hour", False),
    "3 ngày trước": ((2024, 2, 1), (2024, 2, 2), "day", False),
    "cách đây 2 ngày": ((2024, 2, 2), (2024, 2, 3), "day", False),
    "2 tuần trước": ((2024, 1, 15), (2024, 1, 22), "week", False),
    "2 tháng trước": ((2023, 12, 1), (2024, 1, 1), "month", False),
    "30 phút trước": ((2024, 2, 4, 13, 55), (2024, 2, 4, 14, 5), "minute", False),
    "3 tiếng trước": ((2024, 2, 4, 11), (2024, 2, 4, 12), "hour", False),
    "3 ngày qua": ((2024, 2, 1), REF, "day", False),
    "2 tuần qua": ((2024, 1, 21), REF, "week", False),
    "3 giờ qua": ((2024, 2, 4, 11, 30), REF, "hour", False),
}


@pytest.mark.parametrize("tz", ZONES, ids=["utc", "hcm"])
@pytest.mark.parametrize(("phrase", "expected"), [*ENGLISH.items(), *VIETNAMESE.items()])
def test_phrase_resolves_to_its_interval(
    tz: tzinfo, phrase: str, expected: tuple[D, D, str, bool]
) -> None:
    start, end, granularity, fuzzy = expected
    text = f"Note: {phrase}, then more."
    hint = only(text, ref_in(tz))
    assert (hint.start, hint.end) == (at(tz, start), at(tz, end))
    assert (hint.granularity, hint.fuzzy) == (granularity, fuzzy)
    assert hint.text == phrase
    assert hint.span == (6, 6 + len(phrase))
    assert hint.start.utcoffset() == ref_in(tz).utcoffset()


@pytest.mark.parametrize("phrase", ["YESTERDAY", "Last Week", "Hôm Qua", "CHIỀU NAY"])
def test_case_insensitive(phrase: str) -> None:
    assert only(phrase, ref_in(UTC)).text == phrase


def test_iso_with_offset_is_converted_to_the_reference_zone() -> None:
    hint = only("deployed 2023-05-08 12:00+02:00", ref_in(HCM))
    assert hint.start == datetime(2023, 5, 8, 10, tzinfo=UTC)
    assert hint.start.tzinfo is HCM


@pytest.mark.parametrize(
    "text",
    [
        "adjust the settings",
        "justice was served",
        "unjust now",
        "Nowadays the weekends are long",
        "yesterdays",
        "earlier than expected",
        "we may 3 times retry",  # lowercase "may" is the verb
        "we march 5 miles",
        "It took 3 hours",
        "The build took 3h",
        "1.5 hours ago",  # not "5 hours ago"
        "mạng 4G rất nhanh",  # a network, not 4 o'clock
        "xe mới của tôi",  # "new", after a noun
        "Chúc mừng năm mới các bạn",  # "new year"
        "đổi mới công nghệ",  # "innovate"
        "nothing temporal here at all",
        "",
    ],
)
def test_no_hint(text: str) -> None:
    assert extract_time_hints(text, ref_in(UTC)) == []


def test_english_hours_never_make_a_vietnamese_clock_time() -> None:
    hints = extract_time_hints("The migration took 3 hours and 2h of review, yesterday", REF_UTC)
    assert [h.text for h in hints] == ["yesterday"]


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("yesterday morning we met", "yesterday morning"),
        ("the day before yesterday", "day before yesterday"),
        ("earlier today", "earlier today"),
        ("gặp lúc nãy", "lúc nãy"),
        ("sáng hôm qua", "sáng hôm qua"),
        ("họp 3h chiều nay", "3h chiều nay"),
        ("at 1:56 pm on 8 May, 2023", "1:56 pm on 8 May, 2023"),
        ("on 8 May 2023", "8 May 2023"),
        ("vừa nãy", "vừa nãy"),
        ("last weekend", "last weekend"),
    ],
)
def test_longest_match_wins(text: str, phrase: str) -> None:
    assert only(text, REF_UTC).text == phrase


def test_several_hints_sorted_by_position() -> None:
    text = "Yesterday I met Bob; last week Alice, and 3 hours ago Carol called about 8 May 2023."
    hints = extract_time_hints(text, REF_UTC)
    assert [h.text for h in hints] == ["Yesterday", "last week", "3 hours ago", "8 May 2023"]
    assert [h.span for h in hints] == sorted(h.span for h in hints)
    for h in hints:
        assert text[h.span[0] : h.span[1]] == h.text


def test_same_interval_is_reported_once() -> None:
    hints = extract_time_hints("hôm qua (yesterday)", REF_UTC)
    assert [h.text for h in hints] == ["hôm qua"]


@pytest.mark.parametrize("tz", ZONES, ids=["utc", "hcm"])
def test_vietnamese_example(tz: tzinfo) -> None:
    """ "3h" after "chiều nay" takes the afternoon from it: 15:00, not 03:00."""
    text = "Chiều nay 3h uống cà phê ở Viva với Minh"
    afternoon, clock = extract_time_hints(text, ref_in(tz))
    assert (afternoon.text, afternoon.span) == ("Chiều nay", (0, 9))
    assert (afternoon.start, afternoon.end) == (at(tz, (2024, 2, 4, 14)), at(tz, (2024, 2, 4, 18)))
    assert (clock.text, clock.span, clock.granularity, clock.fuzzy) == (
        "3h",
        (10, 12),
        "hour",
        False,
    )
    assert (clock.start, clock.end) == (at(tz, (2024, 2, 4, 15)), at(tz, (2024, 2, 4, 16)))


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("tối qua lúc 8 giờ", (2024, 2, 3, 20)),  # period and day from before the number
        ("sáng mai 9h họp", (2024, 2, 5, 9)),
        ("gọi lúc 3h cho Minh", (2024, 2, 4, 3)),  # no period word: the hour as written
        ("tôi ngủ lúc 11g", (2024, 2, 4, 11)),
        ("Vào 14h hôm qua", (2024, 2, 3, 14)),  # Vietnamese by its time words alone
    ],
)
def test_vietnamese_clock_context(text: str, start: D) -> None:
    clock = extract_time_hints(text, REF_UTC)[-1]
    assert clock.start == at(UTC, start)
    assert clock.end == clock.start + timedelta(hours=1)


def test_bare_moi_and_vua_before_a_verb_mean_just_now() -> None:
    for text in ("Tôi vừa ăn cơm", "Minh mới gọi điện"):
        hint = only(text, REF_UTC)
        assert (hint.start, hint.end, hint.fuzzy) == (REF_UTC - timedelta(hours=2), REF_UTC, True)


def test_calendar_is_the_reference_zones() -> None:
    """20:00 UTC on the 4th is already the 5th in Ho Chi Minh City."""
    ref = datetime(2024, 2, 4, 20, tzinfo=UTC).astimezone(HCM)
    hint = only("today", ref)
    assert hint.start == datetime(2024, 2, 5, tzinfo=HCM)
    assert only("today", datetime(2024, 2, 4, 20, tzinfo=UTC)).start == datetime(
        2024, 2, 4, tzinfo=UTC
    )


def test_fixed_offset_zone() -> None:
    tz = timezone(timedelta(hours=-3))
    hint = only("yesterday", datetime(2024, 2, 4, 1, tzinfo=tz))
    assert (hint.start, hint.end) == (
        datetime(2024, 2, 3, tzinfo=tz),
        datetime(2024, 2, 4, tzinfo=tz),
    )


def test_dst_elapsed_hours_and_short_days() -> None:
    ref = datetime(2024, 3, 10, 4, tzinfo=NEW_YORK)  # two hours after the clocks went forward
    hint = only("3 hours ago", ref)
    assert hint.start.astimezone(UTC) == ref.astimezone(UTC) - timedelta(hours=3.5)
    assert hint.end.astimezone(UTC) == ref.astimezone(UTC) - timedelta(hours=2.5)
    today = only("today", ref)
    assert today.end.timestamp() - today.start.timestamp() == 23 * 3600


def test_midnight_inside_a_dst_gap_becomes_a_real_instant() -> None:
    santiago = ZoneInfo("America/Santiago")  # 2024-09-08 00:00 does not exist there
    hint = only("today", datetime(2024, 9, 8, 12, tzinfo=santiago))
    assert hint.start.astimezone(UTC).astimezone(santiago) == hint.start
    assert hint.start.hour == 1


def test_decomposed_vietnamese_matches_and_spans_point_into_the_input() -> None:
    text = "Đi ăn " + unicodedata.normalize("NFD", "tối nay") + " nhé"
    hint = only(text, REF_UTC)
    assert hint.text == unicodedata.normalize("NFD", "tối nay")
    assert text[hint.span[0] : hint.span[1]] == hint.text
    assert hint.start == datetime(2024, 2, 4, 18, tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        extract_time_hints("yesterday", datetime(2024, 2, 4))
    with pytest.raises(ValueError, match="timezone-aware"):
        extract_time_hints("nothing", datetime(2024, 2, 4))
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_moment("now", datetime(2024, 2, 4))


FRAGMENTS = [*ENGLISH, *VIETNAMESE, "3h", "2 giờ", "on", "May", "at", "9", "2023", ",", ".", "ago"]
TEXT = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=10).map(" ".join),
)
REFS = st.datetimes(
    min_value=datetime(1901, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.sampled_from([UTC, HCM, NEW_YORK, timezone(timedelta(hours=-9, minutes=-30))]),
    allow_imaginary=False,
)


@settings(max_examples=300, deadline=None)
@given(TEXT, REFS)
def test_hints_are_always_well_formed(text: str, ref: datetime) -> None:
    hints = extract_time_hints(text, ref)
    previous_end = 0
    intervals = set()
    for h in hints:
        assert h.start.timestamp() < h.end.timestamp()
        assert h.start.utcoffset() is not None
        assert h.end.utcoffset() is not None
        assert h.granularity in {"minute", "hour", "day", "week", "month", "year", "range"}
        s, e = h.span
        assert previous_end <= s < e <= len(text)
        assert text[s:e] == h.text
        previous_end = e
        intervals.add((h.start, h.end))
    assert len(intervals) == len(hints)


# --- parse_moment ----------------------------------------------------------------------------

NOW = datetime(2024, 2, 4, 14, 30, 15, tzinfo=HCM)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("now", NOW),
        ("  Now ", NOW),
        ("right now", NOW),
        ("3 days ago", NOW - timedelta(days=3)),
        ("2 hours ago", NOW - timedelta(hours=2)),
        ("10 minutes ago", NOW - timedelta(minutes=10)),
        ("an hour ago", NOW - timedelta(hours=1)),
        ("two weeks ago", NOW - timedelta(weeks=2)),
        ("2 months ago", datetime(2023, 12, 4, 14, 30, 15, tzinfo=HCM)),
        ("1 year ago", datetime(2023, 2, 4, 14, 30, 15, tzinfo=HCM)),
        ("3 ngày trước", NOW - timedelta(days=3)),
        ("today", datetime(2024, 2, 4, tzinfo=HCM)),
        ("yesterday", datetime(2024, 2, 3, tzinfo=HCM)),
        ("last week", datetime(2024, 1, 22, tzinfo=HCM)),
        ("last Tuesday", datetime(2024, 1, 30, tzinfo=HCM)),
        ("hôm qua", datetime(2024, 2, 3, tzinfo=HCM)),
        ("8 May 2023", datetime(2023, 5, 8, tzinfo=HCM)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=HCM)),
        ("2026-03-01T12:00", datetime(2026, 3, 1, 12, tzinfo=HCM)),
        ("2026-03-01 12:00:00+02:00", datetime(2026, 3, 1, 10, tzinfo=UTC)),
        ("2026-03-01T12:00:00Z", datetime(2026, 3, 1, 12, tzinfo=UTC)),
    ],
)
def test_parse_moment(phrase: str, expected: datetime) -> None:
    got = parse_moment(phrase, NOW)
    assert got == expected
    assert got is not None
    assert got.utcoffset() == NOW.utcoffset()


def test_parse_moment_months_clamp_to_the_month_end() -> None:
    now = datetime(2024, 5, 31, 9, tzinfo=UTC)
    assert parse_moment("3 months ago", now) == datetime(2024, 2, 29, 9, tzinfo=UTC)


def test_parse_moment_hours_are_elapsed_time_across_dst() -> None:
    now = datetime(2024, 3, 10, 4, tzinfo=NEW_YORK)
    got = parse_moment("3 hours ago", now)
    assert got is not None
    assert got.astimezone(UTC) == now.astimezone(UTC) - timedelta(hours=3)


@pytest.mark.parametrize(
    "phrase",
    [
        "",
        "garbage",
        "3 bananas ago",
        "2026-13-45",
        "2026-02-30T10:00",
        "recently",  # vague: no point in time
        "yesterday and today",
        "the meeting yesterday",
        "99999 years ago",
    ],
)
def test_parse_moment_rejects(phrase: str) -> None:
    assert parse_moment(phrase, NOW) is None


@settings(max_examples=300, deadline=None)
@given(TEXT, REFS)
def test_a_rule_runs_only_where_what_it_needs_is(text: str, ref: datetime) -> None:
    """The patterns tested before some rules are necessary: wherever such a rule matches,
    each of them is found, so skipping the rule without them changes no hint."""
    low = temporal._lower(unicodedata.normalize("NFC", text))
    for order, needs in enumerate(temporal._RULE_NEEDS):
        if needs and temporal._compiled(temporal._PATTERNS[order]).search(low):
            assert all(temporal._compiled(need).search(low) for need in needs)
    skipping = extract_time_hints(text, ref)
    with mock.patch.object(temporal, "_RULE_NEEDS", ((),) * len(temporal._RULE_NEEDS)):
        assert extract_time_hints(text, ref) == skipping
