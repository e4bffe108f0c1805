"""Time phrases in free text, resolved to intervals against a reference moment.

English and Vietnamese, after the v0.1 tables (spec §2.3) without their quirks: every pattern is
word-bounded, granularity comes from the phrase rather than the span length, and "3h" counts as
a Vietnamese clock time only in Vietnamese context.

This runs on every memory encoded, so it is built for the common case of text with no time
phrase: a few substring tests on the lowercased text decide which rules can match at all, and
most texts stop there. Each rule is its own regex starting with a literal or a character class,
which lets the regex engine skip ahead instead of trying every position; the word boundary
before a match is checked in Python for the same reason. Overlapping matches of different rules
are settled afterwards: the longest wins ("yesterday morning" over "yesterday").
"""

from __future__ import annotations

import calendar
import functools
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Final

import msgspec

__all__ = ["TimeHint", "extract_time_hints", "parse_moment", "parse_period", "yearless"]


class TimeHint(msgspec.Struct, frozen=True):
    """A time phrase and the interval it denotes, in the reference's timezone."""

    text: str  # the phrase as it appears in the input
    start: datetime  # inclusive
    end: datetime  # exclusive: a day ends at the next midnight
    granularity: str  # minute, hour, day, week, month or year
    fuzzy: bool  # vague phrases ("recently", "just now") rather than a definite period
    span: tuple[int, int]  # character offsets in the input


# start, end, granularity, fuzzy
_Interval = tuple[datetime, datetime, str, bool]


class _Ref:
    """The reference moment and the text being read, shared by the resolvers."""

    __slots__ = ("_vi", "low", "now", "prefer", "text", "today", "tz")

    def __init__(
        self, now: datetime, text: str, low: str, vi_words: bool, prefer: str = "nearest"
    ) -> None:
        self.now = now
        self.tz = now.tzinfo
        self.today = now.date()
        self.text = text  # NFC; same offsets as low
        self.low = low  # what the rules match against
        self._vi: bool | None = True if vi_words else None
        # a date without its year, a weekday without last/next: the nearest one, or the
        # latest not after now ("past": what happened), or the first not before ("future")
        self.prefer = prefer

    @property
    def vi(self) -> bool:
        """Whether the text is Vietnamese (has a Vietnamese time word or a letter only Vietnamese
        uses), which decides whether a bare "3h" is a clock time."""
        if self._vi is None:
            self._vi = _VI_LETTER.search(self.low) is not None
        return self._vi

    def at(self, d: date, hour: int = 0, minute: int = 0) -> datetime:
        return _norm(datetime(d.year, d.month, d.day, hour, minute, tzinfo=self.tz))


def _norm(dt: datetime) -> datetime:
    """Round-trip through UTC so a wall time inside a DST gap becomes a real instant."""
    if type(dt.tzinfo) is timezone:  # a fixed offset has no gaps
        return dt
    return dt.astimezone(UTC).astimezone(dt.tzinfo)


def _minus(now: datetime, delta: timedelta) -> datetime:
    """Elapsed-time arithmetic: "3 hours ago" is 3 real hours, even across a DST change."""
    return (now.astimezone(UTC) - delta).astimezone(now.tzinfo)


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def _back(now: datetime, n: int, unit: str) -> datetime:
    """The moment exactly n units before now; calendar units keep the wall-clock time."""
    if unit == "minute":
        return _minus(now, timedelta(minutes=n))
    if unit == "hour":
        return _minus(now, timedelta(hours=n))
    if unit in ("day", "week"):
        return _norm(now - timedelta(days=n * (7 if unit == "week" else 1)))
    d = _add_months(now.date(), -n * (12 if unit == "year" else 1))
    return _norm(now.replace(year=d.year, month=d.month, day=d.day))


def _calendar(r: _Ref, unit: str, offset: int) -> _Interval:
    """The calendar day/week/month/year containing ref, shifted by offset units."""
    t = r.today
    if unit == "day":
        first = t + timedelta(days=offset)
        after = first + timedelta(days=1)
    elif unit == "week":
        first = t - timedelta(days=t.weekday() - 7 * offset)
        after = first + timedelta(days=7)
    elif unit == "month":
        first = _add_months(t.replace(day=1), offset)
        after = _add_months(first, 1)
    else:
        first = date(t.year + offset, 1, 1)
        after = date(t.year + offset + 1, 1, 1)
    return r.at(first), r.at(after), unit, False


def _part(r: _Ref, day_offset: int, hours: tuple[int, int]) -> _Interval:
    """A part of a day. Before 06:00, "this morning" is the night's small hours ("at 3 this
    morning"): it starts at midnight, so it is never a morning still to come."""
    d = r.today + timedelta(days=day_offset)
    end = d + timedelta(days=hours[1] // 24)
    start = 0 if day_offset == 0 and hours[0] == 6 and r.now.hour < 6 else hours[0]
    return r.at(d, start), r.at(end, hours[1] % 24), "hour", False


def _ago(r: _Ref, n: int, unit: str) -> _Interval:
    """Minutes and hours get a tolerance window; larger units their whole calendar unit."""
    if unit == "minute":
        start = _minus(r.now, timedelta(minutes=n + 5))
        return start, _minus(r.now, timedelta(minutes=max(0, n - 5))), unit, False
    if unit == "hour":
        start = _minus(r.now, timedelta(hours=n + 0.5))
        return start, _minus(r.now, timedelta(hours=n - 0.5)), unit, False
    return _calendar(r, unit, -n)


def _past(r: _Ref, n: int, unit: str) -> _Interval:
    """From n units back until now, "the past 3 days" from the start of that day."""
    start = _back(r.now, n, unit)
    if unit not in ("minute", "hour"):
        start = r.at(start.date())
    return start, r.now, unit, False


def _fuzzy(r: _Ref, back_from: timedelta, back_to: timedelta, granularity: str) -> _Interval:
    return _minus(r.now, back_from), _minus(r.now, back_to), granularity, True


def _at_time(r: _Ref, d: date, hour: int, minute: str | None) -> _Interval:
    """A clock time on day d: its hour, or its minute when minutes were given."""
    start = r.at(d, hour, int(minute or 0))
    step, granularity = (timedelta(minutes=1), "minute") if minute else (timedelta(hours=1), "hour")
    return start, _norm(start + step), granularity, False


# --- vocabulary ----------------------------------------------------------------------------

_NUMBER_WORDS: Final = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_EN_UNITS: Final = {
    "mi": "minute", "ho": "hour", "hr": "hour", "da": "day", "we": "week", "mo": "month",
    "ye": "year", "yr": "year",
}  # fmt: skip
_VI_UNITS: Final = {
    "phút": "minute", "giờ": "hour", "tiếng": "hour", "ngày": "day", "tuần": "week",
    "tháng": "month", "năm": "year",
}  # fmt: skip
_MONTH_NAMES: Final = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
_MONTHS: Final = {
    **{name: i for i, name in enumerate(_MONTH_NAMES, 1)},
    **{name[:3]: i for i, name in enumerate(_MONTH_NAMES, 1)},
    "sept": 9,
}
_WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Hours; past 24 runs into the next day.
_EN_PARTS: Final = {
    "morning": (6, 12), "afternoon": (12, 18), "evening": (18, 22), "night": (18, 30),
}  # fmt: skip
_VI_PARTS: Final = {
    "sáng": (6, 12), "trưa": (11, 14), "chiều": (14, 18), "tối": (18, 22), "đêm": (22, 30),
}  # fmt: skip
_VI_DAY_WORD: Final = {"nay": 0, "qua": -1, "mai": 1}  # last word of "hôm nay", "qua", "ngày mai"
_VI_DAYS: Final = {"hôm nay": 0, "hôm qua": -1, "hôm kia": -2, "ngày mai": 1, "ngày kia": 2}
_VI_RELATIVE: Final = {
    "này": 0, "nay": 0, "trước": -1, "rồi": -1, "qua": -1, "ngoái": -1, "sau": 1, "tới": 1,
}  # fmt: skip


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def _unit(word: str) -> str:
    return _VI_UNITS.get(word) or _EN_UNITS[word[:2]]


def _words(phrase: str) -> str:
    return " ".join(phrase.split())


# --- patterns (matched against lowercased text) --------------------------------------------

_NUMBER_WORD: Final = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_NUM: Final = rf"[0-9][0-9]{{0,3}}|{_NUMBER_WORD}"
_EN_UNIT: Final = r"minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|yrs?"
_VI_UNIT: Final = "|".join(_VI_UNITS)
# Factored by first letter so that the regex engine tries one branch, not 24 names.
_MONTH: Final = (
    r"j(?:an(?:uary)?|u(?:ne?|ly?))|feb(?:ruary)?|ma(?:r(?:ch)?|y)|a(?:pr(?:il)?|ug(?:ust)?)"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_WEEKDAY: Final = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_YEAR: Final = r"19[0-9]{2}|20[0-9]{2}|2100"
_VI_PERIOD: Final = "|".join(_VI_PARTS)
_VI_DAY_SUFFIX: Final = r"hôm\s+nay|hôm\s+qua|ngày\s+mai|nay|qua|mai"


def _clock(t: str) -> str:
    """A clock time: it must have minutes or am/pm, or "8 May" would start with one."""
    return (
        rf"(?P<{t}h>[0-9][0-9]?)(?=:[0-5][0-9]|\s*[ap]\.?m\b)(?::(?P<{t}m>[0-5][0-9]))?"
        rf"(?:\s*(?P<{t}ap>[ap])\.?m\.?)?"
    )


def _dmy(t: str) -> str:
    return (
        rf"(?P<{t}d>[0-9][0-9]?)(?:st|nd|rd|th)?(?:\s+of)?\s+(?P<{t}mo>{_MONTH})"
        rf"(?:,?\s+(?P<{t}y>{_YEAR}))?"
    )


def _day_year(t: str) -> str:
    return rf"\s+(?P<{t}d>[0-9][0-9]?)(?:st|nd|rd|th)?(?:,?\s+(?P<{t}y>{_YEAR}))?"


def _mdy(t: str) -> str:
    return rf"(?P<{t}mo>{_MONTH}){_day_year(t)}"


# --- resolvers: each turns a match of its rule into an interval, or None -------------------


def _month(m: re.Match[str], group: str, r: _Ref) -> int:
    """The month number; "may" and "march" are also words, so as months they need a capital."""
    name = m.group(group)
    if name in ("may", "mar", "march") and r.text[m.start(group)].islower():
        raise ValueError("lowercase may/march is not a month")
    return _MONTHS[name]


def _ymd(m: re.Match[str], t: str, r: _Ref) -> date:
    year = m.group(t + "y")
    month, day = _month(m, t + "mo", r), int(m.group(t + "d"))
    return date(int(year), month, day) if year else _yearless(r, month, day)


def _yearless(r: _Ref, month: int, day: int = 1, *, months: int = 0) -> date:
    """The occurrence of month/day (a whole month when `months`) that `r.prefer` picks."""
    options: list[date] = []
    for y in (r.today.year - 1, r.today.year, r.today.year + 1):
        try:
            options.append(date(y, month, day))
        except ValueError:  # 29 February
            continue
    if not options:
        raise ValueError("no such day")

    def last_day(d: date) -> date:
        return _add_months(d, months) - timedelta(days=1) if months else d

    if r.prefer == "past":
        return max((d for d in options if d <= r.today), default=options[0])
    if r.prefer == "future":
        return min((d for d in options if last_day(d) >= r.today), default=options[-1])

    def distance(d: date) -> int:
        if d <= r.today <= last_day(d):
            return 0
        return min(abs((d - r.today).days), abs((last_day(d) - r.today).days))

    return min(options, key=distance)


def _on_day(m: re.Match[str], t: str, r: _Ref, d: date) -> _Interval:
    """Day d, narrowed to the clock time t if one matched."""
    if m.group(t + "h") is None:
        return r.at(d), r.at(d + timedelta(days=1)), "day", False
    hour, ap = int(m.group(t + "h")), m.group(t + "ap")
    if ap:
        if not 1 <= hour <= 12:
            raise ValueError("not a 12-hour clock time")
        hour = hour % 12 + (12 if ap == "p" else 0)
    return _at_time(r, d, hour, m.group(t + "m"))


def _time_on_date(m: re.Match[str], r: _Ref) -> _Interval:
    return _on_day(m, "c", r, _ymd(m, "a" if m.group("ad") else "b", r))


def _dmy_date(m: re.Match[str], r: _Ref) -> _Interval:
    return _on_day(m, "c", r, _ymd(m, "", r))


def _month_first(m: re.Match[str], r: _Ref) -> _Interval:
    if m.group("yo") is None:
        return _dmy_date(m, r)
    first = date(int(m.group("yo")), _month(m, "mo", r), 1)
    return r.at(first), r.at(_add_months(first, 1)), "month", False


def _iso(m: re.Match[str], r: _Ref) -> _Interval:
    dt = datetime.fromisoformat(r.text[m.start() : m.end()])
    if m.group("t") is None:
        d = dt.date()
        return r.at(d), r.at(d + timedelta(days=1)), "day", False
    if dt.tzinfo is None:
        dt = _norm(dt.replace(tzinfo=r.tz))
    start = dt.astimezone(r.tz).replace(second=0, microsecond=0)
    return start, _norm(start + timedelta(minutes=1)), "minute", False


def _year(m: re.Match[str], r: _Ref) -> _Interval:
    y = int(m.group("y"))
    return r.at(date(y, 1, 1)), r.at(date(y + 1, 1, 1)), "year", False


def _en_ago(m: re.Match[str], r: _Ref) -> _Interval:
    return _ago(r, _number(m.group("n")), _unit(m.group("u")))


def _en_past(m: re.Match[str], r: _Ref) -> _Interval | None:
    n = m.group("n")
    if n is None and _words(m.group()).startswith(("last", "the last")):
        return None  # "last week" is the calendar week, read by another rule
    return _past(r, _number(n) if n else 1, _unit(m.group("u")))


def _en_around(m: re.Match[str], r: _Ref) -> _Interval:
    return _calendar(r, "day", -2 if "before" in m.group() else 2)


def _en_day(m: re.Match[str], r: _Ref) -> _Interval:
    offset = {"today": 0, "yesterday": -1, "tomorrow": 1}[m.group("d")]
    part = m.group("p")
    return _part(r, offset, _EN_PARTS[part]) if part else _calendar(r, "day", offset)


def _en_this_part(m: re.Match[str], r: _Ref) -> _Interval:
    return _part(r, 0, _EN_PARTS[m.group("p")])


def _en_night(m: re.Match[str], r: _Ref) -> _Interval:
    return _part(r, 0 if m.group() == "tonight" else -1, _EN_PARTS["night"])


def _en_earlier(m: re.Match[str], r: _Ref) -> _Interval:
    start = r.at(r.today)
    end = _minus(r.now, timedelta(hours=1))
    return start, end if end > start else r.now, "hour", True


def _en_relative(m: re.Match[str], r: _Ref) -> _Interval:
    return _calendar(r, m.group("u"), {"this": 0, "last": -1, "next": 1}[m.group("w")])


def _en_weekend(m: re.Match[str], r: _Ref) -> _Interval:
    """Saturday 00:00 to Monday 00:00; a bare "the weekend" is the latest one begun."""
    saturday = r.today - timedelta(days=r.today.weekday() - 5)
    which = m.group("w")
    if which == "last" or (which == "the" and r.today.weekday() < 5):
        saturday -= timedelta(days=7)
    elif which == "next":
        saturday += timedelta(days=7)
    return r.at(saturday), r.at(saturday + timedelta(days=2)), "day", False


def _en_weekday(m: re.Match[str], r: _Ref) -> _Interval:
    """last: latest strictly before today; on: latest on or before today; next: first after
    today; this: the one in the current Monday-based week."""
    which, wanted, today = m.group("w"), _WEEKDAYS.index(m.group("d")), r.today.weekday()
    if which == "this":
        offset = wanted - today
    elif which == "next" or (which == "on" and r.prefer == "future"):
        offset = (wanted - today) % 7 or 7
    else:
        offset = -((today - wanted) % 7 or (7 if which == "last" else 0))
    return _calendar(r, "day", offset)


_DAY_OFFSETS: Final = {"today": 0, "yesterday": -1, "tomorrow": 1}


def _clock_of(m: re.Match[str], t: str) -> tuple[int, str | None]:
    hour, ap = int(m.group(t + "h")), m.group(t + "ap")
    if ap:
        if not 1 <= hour <= 12:
            raise ValueError("not a 12-hour clock time")
        hour = hour % 12 + (12 if ap == "p" else 0)
    elif hour > 23:
        raise ValueError("not a clock time")
    return hour, m.group(t + "m")


def _day_at_clock(m: re.Match[str], r: _Ref) -> _Interval:
    """ "yesterday 3pm", "3pm yesterday", "today at 9:30", "last Monday at 10am"."""
    if "w" in m.re.groupindex:
        d = _en_weekday(m, r)[0].date()
    else:
        word = m.groupdict().get("dw") or m.group("ew")
        d = r.today + timedelta(days=_DAY_OFFSETS[word])
    hour, minute = _clock_of(m, "c")
    return _at_time(r, d, hour, minute)


def _day_first() -> bool:
    """Whether an ambiguous 03/04/2026 is 3 April (day first, as in Vietnamese and most of the
    world) or 4 March (month first: a US English locale, en_US)."""
    import os

    for name in ("LC_ALL", "LC_TIME", "LANG"):
        value = os.environ.get(name)
        if value:
            return not value.startswith("en_US")
    return True


def _numeric_date(m: re.Match[str], r: _Ref) -> _Interval:
    """dd/mm/yyyy (or mm/dd/yyyy in a US locale, or whichever order the numbers allow),
    dd.mm.yyyy (always day first) and yyyy/mm/dd."""
    year = int(m.group("y") or m.group("iy"))
    if m.group("iy"):
        month, day = int(m.group("im")), int(m.group("id"))
    else:
        a, b = int(m.group("a")), int(m.group("b"))
        day_first = m.group("sep") == "." or _day_first()
        if a > 12 and b <= 12:
            day_first = True
        elif b > 12 and a <= 12:
            day_first = False
        day, month = (a, b) if day_first else (b, a)
    d = date(year, month, day)
    return r.at(d), r.at(d + timedelta(days=1)), "day", False


def _range_end(r: _Ref, month: int, day: int, year: str | None) -> date:
    return date(int(year), month, day) if year else _yearless(r, month, day)


def _day_range(m: re.Match[str], r: _Ref) -> _Interval:
    """ "between 11 and 15 August 2023", "from 11 to 15 Aug", "11-15 August", "August 11-15,
    2023", "between 28 July and 3 August 2023": the days from the first through the last."""
    month_b = _month(m, "mb", r)
    last = _range_end(r, month_b, int(m.group("db")), m.group("y"))
    month_a = _month(m, "ma", r) if m.groupdict().get("ma") else month_b
    year_a = last.year - (1 if month_a > month_b else 0)
    first = date(year_a, month_a, int(m.group("da")))
    if first > last:
        raise ValueError("a range that ends before it starts")
    return r.at(first), r.at(last + timedelta(days=1)), "range", False


def _month_range(m: re.Match[str], r: _Ref) -> _Interval:
    """ "from March to May 2023", "between March and May": whole months."""
    a, b = _month(m, "ma", r), _month(m, "mb", r)
    year = m.group("y")
    end_month = date(int(year), b, 1) if year else _yearless(r, b, months=1)
    start = date(end_month.year - (1 if a > b else 0), a, 1)
    return r.at(start), r.at(_add_months(end_month, 1)), "range", False


_ORDINALS: Final = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
                    "fourth": 4, "4th": 4, "last": -1}  # fmt: skip


def _week_of_month(m: re.Match[str], r: _Ref) -> _Interval:
    """ "the first weekend of August", "the second week of November 2023", "the last week of
    March": week n is days 7n-6..7n of the month, the last week its last seven days; weekend n
    the month's n-th Saturday and the Sunday after it."""
    month, year = _month(m, "mo", r), m.group("y")
    first = date(int(year), month, 1) if year else _yearless(r, month, months=1)
    start, end = _nth_week(first, _ORDINALS[m.group("o")], m.group("k") == "weekend")
    if not year and r.prefer == "past" and start > r.today:  # this year's is still to come
        start, end = _nth_week(first.replace(year=first.year - 1), _ORDINALS[m.group("o")],
                               m.group("k") == "weekend")  # fmt: skip
    return r.at(start), r.at(end), "range", False


def _nth_week(first: date, n: int, weekend: bool) -> tuple[date, date]:
    after = _add_months(first, 1)
    if weekend:
        days = (first + timedelta(days=i) for i in range((after - first).days))
        saturdays = [d for d in days if d.weekday() == 5]
        start = saturdays[n - 1 if n > 0 else -1]
        return start, start + timedelta(days=2)
    start = after - timedelta(days=7) if n < 0 else first + timedelta(days=7 * (n - 1))
    return start, min(start + timedelta(days=7), after)


_PARTS_OF_MONTH: Final = {"early": (1, 11), "beginning": (1, 11), "start": (1, 11),
                           "mid": (11, 21), "middle": (11, 21), "late": (21, 32),
                           "end": (21, 32)}  # fmt: skip


def _part_of_month(m: re.Match[str], r: _Ref) -> _Interval:
    """ "early August 2023", "mid-March", "the end of May": a third of the month (days 1-10,
    11-20, 21 to its end)."""
    month, year = _month(m, "mo", r), m.group("y")
    first = date(int(year), month, 1) if year else _yearless(r, month, months=1)
    lo, hi = _PARTS_OF_MONTH[m.group("part")]
    after = _add_months(first, 1)
    end = after if hi > 28 else first.replace(day=hi)
    return r.at(first.replace(day=lo)), r.at(end), "range", False


_SEASONS: Final = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}


def _season(m: re.Match[str], r: _Ref) -> _Interval | None:
    """ "the summer of 2023", "in the spring", "last winter": three months, northern
    meteorological seasons (winter 2023 is December 2022 to February 2023). A bare season
    word ("the summer hackathon") is no time."""
    start_month, year, which = _SEASONS[m.group("s")], m.group("y"), m.group("w")
    if year is None and which is None and m.group("pre") is None:
        return None
    if year is not None:
        first = date(int(year) - (start_month == 12), start_month, 1)
    elif which is None:
        first = _yearless(r, start_month, months=3)
    else:
        starts = [date(y, start_month, 1) for y in range(r.today.year - 2, r.today.year + 2)]
        if which == "last":  # the latest one over
            first = max(d for d in starts if _add_months(d, 3) <= r.today)
        elif which == "next":
            first = min(d for d in starts if d > r.today)
        else:
            first = min(starts, key=lambda d: abs((d + timedelta(days=45) - r.today).days))
    return r.at(first), r.at(_add_months(first, 3)), "range", False


def _bare_month(m: re.Match[str], r: _Ref) -> _Interval:
    """ "in March", "during August": the whole month, in the year the orientation picks."""
    first = _yearless(r, _month(m, "mo", r), months=1)
    return r.at(first), r.at(_add_months(first, 1)), "month", False


def _ahead(m: re.Match[str], r: _Ref) -> _Interval:
    """ "in 2 days", "3 weeks from now": the calendar unit that far ahead (hours: a window)."""
    n, unit = _number(m.group("n")), _unit(m.group("u"))
    if unit == "minute":
        start = _minus(r.now, timedelta(minutes=5 - n))
        return start, _minus(r.now, timedelta(minutes=-n - 5)), unit, False
    if unit == "hour":
        start = _minus(r.now, timedelta(hours=0.5 - n))
        return start, _minus(r.now, timedelta(hours=-n - 0.5)), unit, False
    return _calendar(r, unit, n)


def _just_now(m: re.Match[str], r: _Ref) -> _Interval:
    return _fuzzy(r, timedelta(hours=2), timedelta(0), "hour")


def _recently(m: re.Match[str], r: _Ref) -> _Interval:
    return _fuzzy(r, timedelta(days=7), timedelta(0), "week")


def _a_while_ago(m: re.Match[str], r: _Ref) -> _Interval:
    return _fuzzy(r, timedelta(hours=4), timedelta(minutes=30), "hour")


def _vi_ago(m: re.Match[str], r: _Ref) -> _Interval:
    return _ago(r, int(m.group("n")), _unit(m.group("u")))


def _vi_past(m: re.Match[str], r: _Ref) -> _Interval:
    return _past(r, int(m.group("n")), _unit(m.group("u")))


def _vi_clock(m: re.Match[str], r: _Ref) -> _Interval | None:
    """A clock time: "3h chiều" is 15:00, "14h30 hôm qua" yesterday's 14:30.

    Without a period word after the number, one just before it counts ("chiều nay 3h",
    "tối qua lúc 8 giờ"). "3h"/"3g" with neither needs Vietnamese text, since "3h" is also
    English, and a lowercase h/g, since "4G" is a network.
    """
    period, day = m.group("p"), m.group("d") or m.group("e")
    if period is None:
        before = _VI_PERIOD_BEFORE.search(r.low, max(0, m.start() - 40), m.start())
        if before is not None and _word_start(r.low, before.start()):
            period, day = before.group("p"), day or before.group("d")
    if m.group("g") is not None and (
        r.text[m.start("g")].isupper() or (period is None and not r.vi)
    ):
        return None
    hour = int(m.group("h"))
    if (period in ("chiều", "tối") and hour < 12) or (period == "trưa" and hour < 11):
        hour += 12
    elif period == "sáng" and hour == 12:
        hour = 0
    offset = _VI_DAY_WORD[day.split()[-1]] if day else 0
    return _at_time(r, r.today + timedelta(days=offset), hour, m.group("m"))


def _vi_part(m: re.Match[str], r: _Ref) -> _Interval:
    return _part(r, _VI_DAY_WORD[m.group("d").split()[-1]], _VI_PARTS[m.group("p")])


def _vi_day(m: re.Match[str], r: _Ref) -> _Interval:
    return _calendar(r, "day", _VI_DAYS[_words(m.group())])


def _vi_relative(m: re.Match[str], r: _Ref) -> _Interval:
    return _calendar(r, _unit(m.group("u")), _VI_RELATIVE[m.group("w")])


# Bare "mới"/"vừa" mean "just" only as an adverb, before a verb; after a noun "mới" is "new".
_ADVERB: Final = r"(?=\s+\w)(?!\s+(?:của|và|nhất|này|đó|hơn|lắm|quá|mẻ)(?!\w))"
_NOT_AFTER_NOUN: Final = "".join(rf"(?<!{w}\smới)" for w in ("năm", "đổi", "cái", "tin", "đồ"))
_Resolver = Callable[[re.Match[str], _Ref], _Interval | None]
_DIGIT: Final = "0"  # trigger standing for "the text has a digit"
# Every date has a digit, so month names and years are looked for only in text with one.
_MONTH_TRIGGERS: Final = tuple(name[:3] for name in _MONTH_NAMES)
_YEAR_TRIGGERS: Final = ("19", "20", "2100")
_DIGIT_TRIGGERS: Final = (*_MONTH_TRIGGERS, *_YEAR_TRIGGERS)
_UNIT_TRIGGERS: Final = ("min", "hour", "hr", "day", "week", "month", "year", "yr")
# month names after a word, for the rules that need no digit ("in March", "from May to July")
_SPACED_MONTHS: Final = tuple(f" {name[:3]}" for name in _MONTH_NAMES)

# (triggers, pattern, resolver). A rule runs only if one of its triggers occurs in the
# lowercased text, so every match of the pattern must contain one. List order breaks ties
# between equally long overlapping matches.
_RULE_SPECS: Final[tuple[tuple[tuple[str, ...], str, _Resolver], ...]] = (
    (
        _MONTH_TRIGGERS,
        rf"{_clock('c')},?\s+(?:on\s+)?(?:{_dmy('a')}|{_mdy('b')})",
        _time_on_date,
    ),
    (_MONTH_TRIGGERS, rf"{_dmy('')}(?:,?\s+(?:at\s+)?{_clock('c')})?", _dmy_date),
    (
        _MONTH_TRIGGERS,
        rf"(?P<mo>{_MONTH})(?:{_day_year('')}(?:,?\s+(?:at\s+)?{_clock('c')})?"
        rf"|,?\s+(?P<yo>{_YEAR}))",
        _month_first,
    ),
    (
        (_DIGIT,),
        r"[12][0-9]{3}-[0-9]{2}-[0-9]{2}(?P<t>[t ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
        r"(?:z|[+-][0-9]{2}:[0-9]{2})?)?",
        _iso,
    ),
    (_YEAR_TRIGGERS, rf"(?:in|since|during|of)\s+(?P<y>{_YEAR})", _year),
    (
        (_DIGIT,),
        r"(?P<a>[0-9]{1,2})(?P<sep>[/.])(?P<b>[0-9]{1,2})(?P=sep)(?P<y>(?:19|20)[0-9]{2})"
        r"|(?P<iy>(?:19|20)[0-9]{2})/(?P<im>[0-9]{1,2})/(?P<id>[0-9]{1,2})",
        _numeric_date,
    ),
    (
        _MONTH_TRIGGERS,
        rf"(?:(?:between|from)\s+)?(?:the\s+)?(?P<da>[0-9][0-9]?)(?:st|nd|rd|th)?"
        rf"(?:\s+(?:of\s+)?(?P<ma>{_MONTH}))?\s*(?:-|–|\s(?:and|to|until|till|through)\s)"
        rf"\s*(?:the\s+)?(?P<db>[0-9][0-9]?)(?:st|nd|rd|th)?(?:\s+of)?\s+(?P<mb>{_MONTH})"
        rf"(?:,?\s+(?P<y>{_YEAR}))?",
        _day_range,
    ),
    (
        _MONTH_TRIGGERS,
        rf"(?:(?:between|from)\s+)?(?P<mb>{_MONTH})\s+(?P<da>[0-9][0-9]?)(?:st|nd|rd|th)?"
        rf"\s*(?:-|–|\s(?:and|to|until|till|through)\s)\s*(?P<db>[0-9][0-9]?)"
        rf"(?:st|nd|rd|th)?(?:,?\s+(?P<y>{_YEAR}))?",
        _day_range,
    ),
    (
        _MONTH_TRIGGERS,
        rf"(?:(?:between|from)\s+)?(?P<ma>{_MONTH})\s+(?P<da>[0-9][0-9]?)(?:st|nd|rd|th)?"
        rf"\s*(?:-|–|\s(?:and|to|until|till|through)\s)\s*(?P<mb>{_MONTH})\s+"
        rf"(?P<db>[0-9][0-9]?)(?:st|nd|rd|th)?(?:,?\s+(?P<y>{_YEAR}))?",
        _day_range,
    ),
    (
        ("early", "mid", "late", "beginning", "start", "end"),
        rf"(?:(?:in|during|by|since|throughout|of|at)\s+)?(?:the\s+)?"
        rf"(?P<part>early|mid|late|(?:beginning|middle|start|end)(?=\s+of))(?:\s+of)?[\s-]+"
        rf"(?P<mo>{_MONTH})(?:,?\s+(?P<y>{_YEAR}))?",
        _part_of_month,
    ),
    (
        tuple(_SEASONS),
        rf"(?:(?P<pre>in|during|over|throughout|since)\s+)?(?:the\s+)?"
        rf"(?:(?P<w>last|this|next)\s+)?(?P<s>spring|summer|autumn|fall|winter)"
        rf"(?:\s+(?:of\s+)?(?P<y>{_YEAR}))?",
        _season,
    ),
    (
        _SPACED_MONTHS,
        rf"(?:between|from)\s+(?P<ma>{_MONTH})\s+(?:and|to|until|till|through)\s+"
        rf"(?P<mb>{_MONTH})(?:,?\s+(?P<y>{_YEAR}))?",
        _month_range,
    ),
    (
        ("week",),
        rf"(?:the\s+)?(?P<o>first|1st|second|2nd|third|3rd|fourth|4th|last)\s+"
        rf"(?P<k>weekend|week)\s+(?:of|in)\s+(?P<mo>{_MONTH})(?:,?\s+(?P<y>{_YEAR}))?",
        _week_of_month,
    ),
    (
        _SPACED_MONTHS,
        rf"(?:in|during|since|throughout|of)\s+(?P<mo>{_MONTH})"
        r"(?!\s*[0-9])",
        _bare_month,
    ),
    (
        ("day", "tomorrow"),
        rf"(?P<dw>today|yesterday|tomorrow)(?:\s+at)?\s+{_clock('c')}",
        _day_at_clock,
    ),
    (
        ("day", "tomorrow"),
        rf"(?:at\s+)?{_clock('c')}\s+(?P<ew>today|yesterday|tomorrow)",
        _day_at_clock,
    ),
    (
        ("day",),
        rf"(?P<w>last|this|next|on)\s+(?P<d>{_WEEKDAY})(?:\s+at)?\s+{_clock('c')}",
        _day_at_clock,
    ),
    (_UNIT_TRIGGERS, rf"in\s+(?P<n>{_NUM})\s+(?P<u>{_EN_UNIT})", _ahead),
    (("from now",), rf"(?P<n>{_NUM})\s+(?P<u>{_EN_UNIT})\s+from\s+now", _ahead),
    # Digits and number words apart: each alternation then starts with a literal or a class.
    (("ago",), rf"(?P<n>[0-9][0-9]{{0,3}})\s*(?P<u>{_EN_UNIT})\s+ago", _en_ago),
    (("ago",), rf"(?P<n>{_NUMBER_WORD})\s+(?P<u>{_EN_UNIT})\s+ago", _en_ago),
    (
        ("past", "last"),
        rf"(?:the\s+past|the\s+last|past|last)\s+(?:(?P<n>{_NUM})\s+)?"
        rf"(?P<u>{_EN_UNIT})",
        _en_past,
    ),
    (
        ("day",),
        r"day\s+(?:before\s+yesterday|after\s+tomorrow)",
        _en_around,
    ),
    (
        ("day", "tomorrow"),
        r"(?P<d>today|yesterday|tomorrow)(?:\s+(?P<p>morning|afternoon|evening|night))?",
        _en_day,
    ),
    (
        ("morning", "afternoon", "evening"),
        r"this\s+(?P<p>morning|afternoon|evening)",
        _en_this_part,
    ),
    (("night",), r"tonight|last\s+night", _en_night),
    (
        ("earlier",),
        r"earlier\s+today|earlier(?!\s+(?:than|this|last|in|on|that)(?!\w))",
        _en_earlier,
    ),
    (("week", "month", "year"), r"(?P<w>this|last|next)\s+(?P<u>week|month|year)", _en_relative),
    (("week",), r"(?P<w>this|last|next|the)\s+weekend", _en_weekend),
    (("day",), rf"(?P<w>last|this|next|on)\s+(?P<d>{_WEEKDAY})", _en_weekday),
    (("now",), r"just\s+now", _just_now),
    (
        ("recent", "lately", "đây", "dạo"),
        r"recently|lately|gần\s+đây|mới\s+đây|dạo\s+này",
        _recently,
    ),
    (("đây",), rf"cách\s+đây\s+(?P<n>[0-9]{{1,4}})\s*(?P<u>{_VI_UNIT})(?:\s+trước)?", _vi_ago),
    (("trước",), rf"(?P<n>[0-9][0-9]{{0,3}})\s*(?P<u>{_VI_UNIT})\s+trước", _vi_ago),
    (
        ("phút", "giờ", "tiếng", "ngày", "tuần", "tháng", "năm"),
        rf"(?P<n>[0-9][0-9]{{0,3}})\s*(?P<u>{_VI_UNIT})\s+qua",
        _vi_past,
    ),
    (
        (_DIGIT,),
        rf"(?P<h>[0-9][0-9]?)(?:\s*giờ|(?P<g>[hg]))(?:\s*(?P<m>[0-5][0-9])(?:\s*phút)?)?"
        rf"(?:\s+(?P<p>{_VI_PERIOD})(?:\s+(?P<d>{_VI_DAY_SUFFIX}))?"
        r"|\s+(?P<e>hôm\s+nay|hôm\s+qua|ngày\s+mai))?",
        _vi_clock,
    ),
    (tuple(_VI_PARTS), rf"(?P<p>{_VI_PERIOD})\s+(?P<d>{_VI_DAY_SUFFIX})", _vi_part),
    (("hôm", "ngày"), r"hôm\s+(?:nay|qua|kia)|ngày\s+(?:mai|kia)", _vi_day),
    (
        ("tuần", "tháng", "năm"),
        r"(?P<u>tuần|tháng|năm)\s+(?P<w>này|nay|trước|rồi|qua|ngoái|sau|tới)",
        _vi_relative,
    ),
    (("nãy",), r"lúc\s+nãy|vừa\s+nãy|hồi\s+nãy|ban\s+nãy|nãy", _a_while_ago),
    (
        ("mới", "vừa"),
        r"vừa\s+xong|vừa\s+mới|mới\s+vừa"
        rf"|mới{_NOT_AFTER_NOUN}{_ADVERB}|vừa{_ADVERB}",
        _just_now,
    ),
)

# The left word boundary is checked in Python: a leading lookbehind would stop the regex engine
# from jumping to the pattern's first character.
# Compiled on first use (`_compiled`): most texts trigger few rules, and start-up time matters
# to the CLI.
_PATTERNS: Final = tuple(rf"(?:{pattern})(?!\w)" for _, pattern, _ in _RULE_SPECS)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """A pattern compiled the first time a text needs it."""
    return re.compile(pattern)


_RESOLVERS: Final = tuple(resolve for _, _, resolve in _RULE_SPECS)
# What every match of some rules holds beyond their triggers, tested once per text before any
# of them runs: "end" (in "backend") or "day" (in "3 days") triggers rules that also need a
# month name as a word, a clock time or a numeric date, and most such texts have none. Each
# of these patterns starts with a character class or literals, which the regex engine skips
# to; the rules themselves mostly start with optional words and are tried at every position.
_MONTH_WORD: Final = rf"(?:{_MONTH})(?!\w)"  # every _MONTH in a rule ends a word
_CLOCK_DIGIT: Final = r"[0-9](?::[0-5][0-9]|\s*[ap]\.?m\b)"  # the lookahead of _clock
_DATE_DIGITS: Final = r"[0-9][/.][0-9]"
_NEEDS: Final[dict[_Resolver, tuple[str, ...]]] = {
    _time_on_date: (_MONTH_WORD, _CLOCK_DIGIT),
    _dmy_date: (_MONTH_WORD,),
    _month_first: (_MONTH_WORD,),
    _day_range: (_MONTH_WORD,),
    _part_of_month: (_MONTH_WORD,),
    _month_range: (_MONTH_WORD,),
    _week_of_month: (_MONTH_WORD,),
    _bare_month: (_MONTH_WORD,),
    _day_at_clock: (_CLOCK_DIGIT,),
    _numeric_date: (_DATE_DIGITS,),
}
_RULE_NEEDS: Final = tuple(_NEEDS.get(resolve, ()) for resolve in _RESOLVERS)
_RULES_BY_TRIGGER: Final = {
    t: tuple(i for i, (ts, _, _) in enumerate(_RULE_SPECS) if t in ts)
    for ts, _, _ in _RULE_SPECS
    for t in ts
}
_EN_TRIGGERS: Final = tuple(
    sorted({t for ts, _, _ in _RULE_SPECS for t in ts if t.isascii()} - {_DIGIT, *_DIGIT_TRIGGERS})
)
_VI_TRIGGERS: Final = tuple(sorted({t for ts, _, _ in _RULE_SPECS for t in ts if not t.isascii()}))
_HAS_DIGIT: Final = re.compile("[0-9]")
_VI_PERIOD_BEFORE: Final = re.compile(
    rf"(?P<p>{_VI_PERIOD})(?:\s+(?P<d>{_VI_DAY_SUFFIX}))?,?(?:\s+(?:vào\s+)?lúc)?\s+$"
)
# Lowercase letters Vietnamese has and French, Spanish or Portuguese do not.
_VI_LETTER: Final = re.compile(r"[ăđơưĩũ\u1ea1-\u1ef9]")
_ISO_START: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NOW_WORDS: Final = frozenset({"now", "right now", "just now"})


def _require_aware(dt: datetime) -> None:
    if dt.utcoffset() is None:
        raise ValueError(f"timezone-aware datetime required, got naive {dt!r}")


def _nfc(text: str) -> tuple[str, list[int] | None]:
    """NFC text plus a map from its offsets to the input's, so that decomposed Vietnamese
    (as typed on some keyboards) matches and spans still point into the original."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text, None
    parts: list[str] = []
    offsets: list[int] = []
    begin = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or unicodedata.combining(text[i]) == 0:
            piece = unicodedata.normalize("NFC", text[begin:i])
            parts.append(piece)
            # A match starts on a segment start; one ending inside a segment takes all of it.
            offsets.extend([begin] + [i] * (len(piece) - 1))
            begin = i
    offsets.append(len(text))
    return "".join(parts), offsets


def _lower(text: str) -> str:
    """Lowercase with offsets unchanged (a few characters, like "İ", lowercase to two)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _word_start(low: str, i: int) -> bool:
    """Whether a match may start at i: not inside a word, nor after a decimal point or colon
    ("1.5 hours ago" is not "5 hours ago")."""
    if i == 0:
        return True
    c = low[i - 1]
    return not (c.isalnum() or c == "_" or (c in ".,:" and low[i].isdigit()))


def _found(present: dict[str, bool], pattern: str, low: str) -> bool:
    """Whether `pattern` occurs in `low`, searched once per text (`present` holds the answers)."""
    hit = present.get(pattern)
    if hit is None:
        hit = present[pattern] = _compiled(pattern).search(low) is not None
    return hit


def extract_time_hints(text: str, ref: datetime, *, prefer: str = "nearest") -> list[TimeHint]:
    """Every time phrase in text, resolved against ref, ordered by position.

    A hint with the same interval as an earlier one is dropped. `prefer` picks the year of a
    date given without one, and the week of a bare weekday ("on Monday"): "nearest" to ref
    (memory text), "past" (questions about what happened) or "future".
    """
    _require_aware(ref)
    norm, offsets = _nfc(text)
    low = _lower(norm)
    hits = {t for t in _EN_TRIGGERS if t in low}
    if _HAS_DIGIT.search(low):
        hits.add(_DIGIT)
        hits.update(t for t in _DIGIT_TRIGGERS if t in low)
    if not low.isascii():
        hits.update(t for t in _VI_TRIGGERS if t in low)
    if not hits:
        return []
    matches: list[tuple[int, int, int, re.Match[str]]] = []
    present: dict[str, bool] = {}
    for order in sorted({i for t in hits for i in _RULES_BY_TRIGGER[t]}):
        needs = _RULE_NEEDS[order]
        if needs and not all(_found(present, need, low) for need in needs):
            continue
        rx, pos = _compiled(_PATTERNS[order]), 0
        while (m := rx.search(low, pos)) is not None:
            if _word_start(low, m.start()):
                matches.append((m.start() - m.end(), m.start(), order, m))
                pos = m.end()
            else:
                pos = m.start() + 1
    # Longest first, then leftmost, then rule order. A match is resolved only once it is clear
    # of every kept one, so a phrase shadowed by a longer one costs nothing.
    matches.sort(key=lambda x: x[:3])
    r = _Ref(ref, norm, low, vi_words=not hits.isdisjoint(_VI_TRIGGERS), prefer=prefer)
    kept: list[tuple[int, int, _Interval]] = []
    for _, i, order, m in matches:
        j = m.end()
        if any(i < kj and j > ki for ki, kj, _ in kept):
            continue
        try:
            interval = _RESOLVERS[order](m, r)
        except (ValueError, OverflowError):  # an impossible date such as 31 February
            continue
        if interval is not None:
            kept.append((i, j, interval))
    kept.sort(key=lambda k: k[0])
    hints: list[TimeHint] = []
    seen: set[tuple[float, float]] = set()
    for i, j, (start, end, granularity, fuzzy) in kept:
        key = (start.timestamp(), end.timestamp())
        if key[0] >= key[1] or key in seen:
            continue
        seen.add(key)
        s, e = (offsets[i], offsets[j]) if offsets is not None else (i, j)
        hints.append(TimeHint(text[s:e], start, end, granularity, fuzzy, (s, e)))
    return hints


_NAMED: Final = re.compile(rf"(?<!\w)(?:{_MONTH}|{'|'.join(_SEASONS)})(?!\w)")
_YEAR_IN: Final = re.compile(rf"(?<![0-9])(?:{_YEAR})(?![0-9])")
_RELATIVE_SEASON: Final = re.compile(rf"(?:last|this|next)\s+(?:{'|'.join(_SEASONS)})")


def yearless(hint: TimeHint) -> bool:
    """Whether a hint names a period of the calendar without saying which year ("the first
    weekend of August", "in March"; not "last summer" nor "March 2023"): the year it got is
    the orientation's guess."""
    low = hint.text.lower()
    if _YEAR_IN.search(low) or _RELATIVE_SEASON.search(low):
        return False
    return _NAMED.search(low) is not None


def parse_period(
    phrase: str, now: datetime, prefer: str = "past"
) -> tuple[datetime, datetime] | None:
    """A user-typed time (an --at, --time, --since, --until or --expires option) as the
    period it names, [start, end); a moment is the period (t, t). None if it is not one.

    "3 days ago", "3d", "2 days" are exactly that far back, "in 2 days" and "2 days from now"
    that far ahead (`prefer` "future" reads "3d" and "2 days" ahead too); "yesterday 3pm",
    "12/01/2026", "8 May 2023", "last week" are their periods; ISO 8601 without an offset is
    in now's timezone. A time of day alone ("3pm") is the latest one not after now (`prefer`
    "past") or the first not before it ("future"); so are dates without a year and weekdays
    ("8 May", "on Monday"). Vague phrases ("recently") name no period and give None.
    """
    _require_aware(now)
    p = _words(unicodedata.normalize("NFC", phrase))
    low = p.lower()
    if low in _NOW_WORDS:
        return now, now
    if (m := _compiled(_AHEAD_EXACT).fullmatch(low)) is not None:
        sign, m = 1, _compiled(_DURATION).fullmatch(m.group("d") or m.group("d2"))
    elif (m := _compiled(_AGO_EXACT).fullmatch(low)) is not None:
        sign, m = -1, _compiled(_DURATION).fullmatch(m.group("d") or m.group("d2"))
    else:  # a bare duration: back, or ahead when the option looks ahead (an expiry)
        sign, m = (1 if prefer == "future" else -1), _compiled(_DURATION).fullmatch(low)
    if m is not None:
        try:
            return _shifted(now, sign, m)
        except (ValueError, OverflowError):
            return None
    if _ISO_START.match(p):
        try:
            dt = datetime.fromisoformat(p)
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = _norm(dt.replace(tzinfo=now.tzinfo))
        dt = dt.astimezone(now.tzinfo)
        if len(p) == 10:  # a date: the whole day
            return dt, _norm(datetime.combine(dt.date() + timedelta(days=1), dt.timetz()))
        return dt, dt
    if (m := _compiled(_CLOCK_ALONE).fullmatch(low)) is not None:
        return _clock_alone(m, now, prefer)
    hints = extract_time_hints(p, now, prefer=prefer)
    if len(hints) == 1 and hints[0].span == (0, len(p)) and not hints[0].fuzzy:
        return hints[0].start, hints[0].end
    return None


def parse_moment(phrase: str, now: datetime, prefer: str = "past") -> datetime | None:
    """The start of what `parse_period` reads: the moment an --at or --time option means."""
    period = parse_period(phrase, now, prefer)
    return None if period is None else period[0]


_SHORT_UNITS: Final = {
    "m": "minute", "min": "minute", "mins": "minute", "h": "hour", "d": "day", "w": "week",
    "mo": "month", "y": "year",
}  # fmt: skip
# What a typed option may be; compiled on first use (`_compiled`): only options read them, a
# recall's question never does, and compiling them was a tenth of the extraction's import.
_DURATION: Final = (
    rf"(?P<n>{_NUM})\s*(?P<u>{_EN_UNIT})|(?P<sn>[0-9]{{1,4}})(?P<su>mo|mins?|[mhdwy])"
    rf"|(?P<vn>[0-9]{{1,4}})\s*(?P<vu>{_VI_UNIT})"
)
_AGO_EXACT: Final = r"(?P<d>.+?)\s+(?:ago|trước)|cách\s+đây\s+(?P<d2>.+)"
_AHEAD_EXACT: Final = r"in\s+(?P<d>.+)|(?P<d2>.+?)\s+(?:from\s+now|later|nữa|sau)"
_CLOCK_ALONE: Final = rf"(?:at\s+)?(?:{_clock('c')}|(?P<hh>[0-9]{{1,2}}):(?P<mm>[0-5][0-9]))"


def _shifted(now: datetime, sign: int, m: re.Match[str]) -> tuple[datetime, datetime]:
    if m.group("n"):
        n, unit = _number(m.group("n")), _unit(m.group("u"))
    elif m.group("sn"):
        n, unit = int(m.group("sn")), _SHORT_UNITS[m.group("su")]
    else:
        n, unit = int(m.group("vn")), _unit(m.group("vu"))
    t = _back(now, -sign * n, unit)
    return t, t


def _clock_alone(m: re.Match[str], now: datetime, prefer: str) -> tuple[datetime, datetime] | None:
    try:
        if m.group("hh") is not None:
            hour, minute = int(m.group("hh")), m.group("mm")
            if hour > 23:
                return None
        else:
            hour, minute = _clock_of(m, "c")
    except ValueError:
        return None
    r = _Ref(now, "", "", False)
    start, end, _, _ = _at_time(r, r.today, hour, minute)
    if prefer == "past" and start > now:
        start, end, _, _ = _at_time(r, r.today - timedelta(days=1), hour, minute)
    elif prefer == "future" and start < now:
        start, end, _, _ = _at_time(r, r.today + timedelta(days=1), hour, minute)
    return start, end
