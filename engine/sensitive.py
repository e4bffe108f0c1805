"""Find and redact secrets (keys, passwords, card numbers, ...) in memory text.

A re-implementation of the original `safety/sensitive.py` with its quirks fixed:

* card numbers must pass Luhn and carry a known issuer prefix, and may be grouped with single
  spaces or dashes ("4111 1111 1111 1111"); SSNs with an impossible area/group/serial are ignored;
* overlapping matches are merged, so redaction never leaves a fragment of a secret behind, and
  a low-severity long-hex/base64 run inside a real secret disappears into it;
* a keyword rule's span is the value only, so redaction keeps the context ("password=[REDACTED]");
* a private key is redacted whole (header, body, footer), not just its header line;
* further verbatim copies of a detected secret elsewhere in the text are reported too.

`Finding` holds offsets, never the secret, so findings can be logged and `describe()` can be
printed in error messages safely. Every write goes through `scan`, so all patterns are
precompiled and a cheap pre-filter lets ordinary prose return in a few microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

__all__ = ["Finding", "Severity", "describe", "redact", "scan"]


class Severity(IntEnum):
    """How bad a leak would be; ordered, so callers can compare against a threshold."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3


@dataclass(frozen=True, slots=True)
class Finding:
    """One sensitive span of the scanned text (merged if several patterns overlapped)."""

    kind: str
    pattern: str
    severity: Severity
    start: int
    end: int

    def masked(self, text: str) -> str:
        """The match with all but its first and last 4 characters starred, for a UI preview."""
        secret = text[self.start : self.end]
        if len(secret) <= 8:
            return "****"
        return secret[:4] + "*" * (len(secret) - 8) + secret[-4:]


_Spans = Callable[[re.Match[str]], Iterator[tuple[int, int]]]

# A keyword rule's value that is a placeholder, not a secret: "<token>", "****", "${DB_PASS}",
# "{{ secret }}", "xxxxxxxxxxxxxxxx", or one starting with a redaction mark ("[REDACTED]...").
# Skipping them keeps scan(redact(text)) empty.
_PLACEHOLDER: Final = re.compile(
    r"<[^<>]*>|\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*|\{\{[^}]*\}\}|(.)\1*|\[[A-Za-z _-]*\].*",
    re.ASCII | re.DOTALL,
)


def _value(m: re.Match[str]) -> Iterator[tuple[int, int]]:
    """The first capture group that took part (the secret value), else the whole match."""
    for group in range(1, m.re.groups + 1):
        start = m.start(group)
        if start >= 0:
            yield start, m.end(group)
            return
    yield m.span()


def _keyword_value(m: re.Match[str]) -> Iterator[tuple[int, int]]:
    """The value after a keyword, unless it is only a placeholder."""
    for start, end in _value(m):
        value = m.string[start:end]
        if not _PLACEHOLDER.fullmatch(value.rstrip(".,;)") or value):
            yield start, end


def _with_case_mix(m: re.Match[str]) -> Iterator[tuple[int, int]]:
    """`sk-` keys: require a digit or capital, so kebab-case words like sk-learn-... pass."""
    body = m.group()[3:]
    if any(c.isdigit() or c.isupper() for c in body):
        yield m.span()


def _random_base64(m: re.Match[str]) -> Iterator[tuple[int, int]]:
    """Keep a base64 run only if it looks random, not a long word, a hex digest or a path."""
    run = m.group().rstrip("=")
    if _HEX_ONLY.fullmatch(run):
        return  # the hex rule reports it
    if not (_HAS_DIGIT.search(run) and _HAS_UPPER.search(run) and _HAS_LOWER.search(run)):
        return
    if "/" in run and max(map(len, run.split("/"))) < 16:
        return
    yield m.span()


_HEX_ONLY: Final = re.compile(r"[0-9a-fA-F]+")
_GLUED: Final = re.compile(r"-?[A-Za-z0-9]")
_HAS_DIGIT: Final = re.compile(r"[0-9]")
_HAS_UPPER: Final = re.compile(r"[A-Z]")
_HAS_LOWER: Final = re.compile(r"[a-z]")


def _issuer_ok(d: str) -> bool:
    """Visa, Mastercard, Amex, Discover, Diners, JCB and UnionPay prefixes with their lengths."""
    n = len(d)
    p2, p3, p4 = int(d[:2]), int(d[:3]), int(d[:4])
    if d[0] == "4":
        return n in (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16
    if p2 in (34, 37):
        return n == 15
    if p4 == 6011 or p2 in (62, 65) or 644 <= p3 <= 649 or 3528 <= p4 <= 3589:
        return 16 <= n <= 19
    if p2 in (36, 38, 39) or 300 <= p3 <= 305:
        return 14 <= n <= 19
    return False


_DOUBLED: Final = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _luhn_ok(d: str) -> bool:
    digits = [ord(c) - 48 for c in reversed(d)]
    return (sum(digits[::2]) + sum([_DOUBLED[x] for x in digits[1::2]])) % 10 == 0


def _cards(m: re.Match[str]) -> Iterator[tuple[int, int]]:
    """Card numbers in a run of digit groups: the longest valid window at each group, greedily.

    Windows are group-aligned, so "4111 1111 1111 1111 12/26" still finds the card although
    the whole run (18 digits) is not one. A run glued to a letter is part of an identifier
    ("41234567-1234-5678-9abc", a UUID) and holds no card. Checked here rather than by a
    lookahead, which would make the regex retry the rest of a long run at every group.
    """
    if _GLUED.match(m.string, m.end()):
        return
    groups = m.group().replace("-", " ").split(" ")  # separators are single characters
    starts = []
    pos = m.start()
    for group in groups:
        starts.append(pos)
        pos += len(group) + 1
    i = 0
    while i < len(groups):
        best = -1
        digits = ""
        if groups[i][0] not in "23456":  # no issuer prefix starts otherwise
            i += 1
            continue
        for j in range(i, len(groups)):
            digits += groups[j]
            if len(digits) > 19:
                break
            if len(digits) >= 13 and _issuer_ok(digits) and _luhn_ok(digits):
                best = j
        if best < 0:
            i += 1
            continue
        yield starts[i], starts[best] + len(groups[best])
        i = best + 1


@dataclass(frozen=True, slots=True)
class _Rule:
    """One pattern; `hints`/`needs_*` let `scan` skip rules that cannot match this text."""

    kind: str
    name: str
    severity: Severity
    regex: re.Pattern[str]
    spans: _Spans = _value
    hints: tuple[str, ...] = ()  # the lowercased text must contain one of these
    needs_digits: bool = False  # a run of >= 9 digits (single spaces/dashes allowed between)
    needs_run: bool = False  # >= 32 contiguous base64-alphabet characters


def _rx(pattern: str, *, nocase: bool = False) -> re.Pattern[str]:
    # ASCII: \d, \s and case folding stay ASCII, which the pre-filter and hints rely on.
    return re.compile(pattern, re.ASCII | (re.IGNORECASE if nocase else 0))


_H, _M, _L = Severity.HIGH, Severity.MEDIUM, Severity.LOW
_SEP = r"[\"']?\s*(?:=>|[=:])\s*[\"']?"  # `key = "v"`, `"key": "v"`, `key => v`, `KEY:v`
_VAL16 = r"([A-Za-z0-9_\-.+/=~]{16,})"

# Order matters only for ties: the earlier (more specific) rule names a merged finding.
_RULES: Final[tuple[_Rule, ...]] = (
    _Rule(
        "private_key",
        "Private Key",
        _H,
        # The whole block: a header alone would leave the key body behind.
        _rx(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            # Up to the footer, but never past the next header: many footerless headers
            # stay linear. Without a footer: optional "Proc-Type:" lines, then the body.
            r"(?:(?:(?!-----BEGIN )[\s\S])*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"|(?:[ \t]*\r?\n[A-Za-z-]+:[^\n]*)*+(?:\s*+[A-Za-z0-9+/=]{16,}+)*+)"
        ),
        hints=("-----begin",),
    ),
    _Rule(
        "aws_key",
        "AWS Access Key ID",
        _H,
        _rx(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])"),
        hints=("akia", "asia"),
    ),
    _Rule(
        "aws_key",
        "AWS Secret Access Key",
        _H,
        _rx(rf"aws_secret_access_key{_SEP}([A-Za-z0-9/+=]{{40}})(?![A-Za-z0-9/+=])", nocase=True),
        hints=("aws_secret_access_key",),
    ),
    _Rule(
        "api_key",
        "OpenAI-style Secret Key",
        _H,
        _rx(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{20,}"),
        _with_case_mix,
        hints=("sk-",),
    ),
    _Rule(
        "api_key",
        "Stripe Secret Key",
        _H,
        _rx(r"(?<![A-Za-z0-9])[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"),
        hints=("k_live_", "k_test_"),
    ),
    _Rule(
        "api_key",
        "GitHub Token",
        _H,
        _rx(r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})"),
        hints=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    _Rule(
        "api_key",
        "Slack Token",
        _H,
        _rx(r"(?<![A-Za-z0-9])xox[baprs]-[A-Za-z0-9-]{10,}"),
        hints=("xox",),
    ),
    _Rule(
        "api_key",
        "Google API Key",
        _H,
        _rx(r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35,}"),
        hints=("aiza",),
    ),
    _Rule(
        "database_url",
        "Database URL",
        _H,
        # The span is the userinfo, so "postgres://[REDACTED]@db:5432/app" keeps the host.
        # The password may hold a raw '@': the userinfo runs to the last '@' before the host.
        _rx(
            r"\b(?:postgres(?:ql)?|mysql|mariadb|mssql|sqlserver|mongodb|rediss?|amqps?)"
            r"(?:\+[a-z0-9]+)?://([^\s:/@]*:[^\s/]+)@(?=[^\s/@])",
            nocase=True,
        ),
        hints=("://",),
    ),
    _Rule(
        "jwt",
        "JWT",
        _M,
        _rx(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}"),
        hints=("eyj",),
    ),
    _Rule(
        "secret",
        "Generic Secret",
        _H,
        _rx(rf"(?:secret(?:[_-]?(?:access[_-]?)?key)?|private[_-]?key){_SEP}{_VAL16}", nocase=True),
        _keyword_value,
        hints=("secret", "private"),
    ),
    _Rule(
        "api_key",
        "Generic API Key",
        _H,
        _rx(rf"(?:api|access)[_-]?key{_SEP}{_VAL16}", nocase=True),
        _keyword_value,
        hints=("api", "access"),
    ),
    _Rule(
        "password",
        "Generic Password",
        _H,
        _rx(
            r"(?:password|passwd|passphrase|pwd)[\"']?[ \t]*(?:=>|[=:])[ \t]*"
            r"(?:\"([^\"\r\n]{4,})\"|'([^'\r\n]{4,})'|([^\s\"']\S{3,}))",
            nocase=True,
        ),
        _keyword_value,
        hints=("pass", "pwd"),
    ),
    _Rule(
        "token",
        "Generic Token",
        _H,
        _rx(rf"(?:token|bearer){_SEP}{_VAL16}", nocase=True),
        _keyword_value,
        hints=("token", "bearer"),
    ),
    _Rule(
        "token",
        "Bearer Token",
        _H,
        _rx(r"\bbearer[ \t]+([A-Za-z0-9_\-.+/~]{16,}=*)", nocase=True),
        _keyword_value,
        hints=("bearer",),
    ),
    _Rule(
        "credit_card",
        "Credit Card",
        _H,
        # Possessive: a run is taken whole, and `_cards` rejects one glued to a letter.
        _rx(r"(?<![A-Za-z0-9])(?<![A-Za-z0-9]-)[0-9](?:[ -]?[0-9]){12,}+"),
        _cards,
        needs_digits=True,
    ),
    _Rule(
        "ssn",
        "US Social Security Number",
        _H,
        _rx(
            r"(?<![A-Za-z0-9-])(?!000|666|9)[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}"
            r"(?![A-Za-z0-9]|-[A-Za-z0-9])"
        ),
        needs_digits=True,
    ),
    _Rule(
        "generic_secret",
        "Long Hex String",
        _L,
        _rx(r"(?<![A-Za-z0-9])[0-9a-fA-F]{32,}+(?![A-Za-z0-9])"),
        needs_run=True,
    ),
    _Rule(
        "generic_secret",
        "Long Base64 String",
        _L,
        _rx(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40,}+={0,2}"),
        _random_base64,
        needs_run=True,
    ),
)

# The pre-filter: every rule match implies one of these, and ordinary prose has none of them.
# - A token of >= 15 printable ASCII characters, which every other rule needs (the shortest,
#   a Slack token, is "xoxb-" + 10). Anchored and possessive, so it is one pass instead of a
#   `search` restarting at each position; likewise `_BASE64_RUN`.
# - A run of >= 9 digits, single spaces or dashes allowed between them: SSNs and cards.
# - A password keyword followed by '=' or ':' (its value may be 4 characters).
# - "://" or "-----BEGIN": database URLs can be short and PEM headers hold spaces.
_LONG_TOKEN: Final = _rx(r"[^!-~]*+(?:[!-~]{1,14}+[^!-~]++)*+[!-~]{15}")
_ANY_DIGIT: Final = _rx(r"[0-9]")
_DIGIT_RUN: Final = _rx(r"[0-9](?:[ -]?[0-9]){8}")
_PASSWORD_KEY: Final = _rx(r"(?:pass(?:word|wd|phrase)|pwd)[\"']?[ \t]*[=:]", nocase=True)
_BASE64_RUN: Final = _rx(
    r"[^A-Za-z0-9+/]*+(?:[A-Za-z0-9+/]{1,31}+[^A-Za-z0-9+/]++)*+[A-Za-z0-9+/]{32}"
)


def _rules_by_hint() -> dict[str, tuple[int, ...]]:
    hints = {hint for rule in _RULES for hint in rule.hints}
    return {h: tuple(i for i, rule in enumerate(_RULES) if h in rule.hints) for h in hints}


_BY_HINT: Final = _rules_by_hint()
_DIGIT_RULES: Final = tuple(i for i, rule in enumerate(_RULES) if rule.needs_digits)
_RUN_RULES: Final = tuple(i for i, rule in enumerate(_RULES) if rule.needs_run)

# A word of hex digits, not all of them decimal (a memory id, a digest): only the LOW long-hex
# and base64 runs can match it. No rule's hint is made of hex digits, a card must not be glued
# to a letter and an SSN has dashes. Memory ids are made so: this spares each a scan.
_HEX_WORD: Final = _rx(r"[0-9]*+[A-Fa-f][0-9A-Fa-f]*+")

_REPEAT_MIN: Final = 8  # shorter secrets ("abcd") would redact ordinary words elsewhere


def _active_rules(text: str) -> list[int]:
    """Indices of the rules worth running on `text`: none for ordinary prose, in microseconds."""
    long_token = _LONG_TOKEN.match(text) is not None
    first = _ANY_DIGIT.search(text)
    digits = first is not None and _DIGIT_RUN.search(text, first.start()) is not None
    keyed = (
        "://" in text
        or "-----BEGIN" in text
        or (("=" in text or ":" in text) and _PASSWORD_KEY.search(text) is not None)
    )
    if not (long_token or digits or keyed):
        return []
    lower = text.lower()
    active = {index for hint, indices in _BY_HINT.items() if hint in lower for index in indices}
    if digits:
        active.update(_DIGIT_RULES)
    if long_token and _BASE64_RUN.match(text):
        active.update(_RUN_RULES)
    return sorted(active)


def _raw_matches(text: str, rules: Iterable[int]) -> list[tuple[int, int, Severity, int]]:
    """(start, end, severity, rule index) for every rule match, plus repeats of secrets."""
    found: dict[tuple[int, int], tuple[Severity, int]] = {}
    for index in rules:
        rule = _RULES[index]
        for m in rule.regex.finditer(text):
            for start, end in rule.spans(m):
                seen = found.get((start, end))
                if end > start and (seen is None or seen[0] < rule.severity):
                    found[start, end] = (rule.severity, index)
    # Copies of a detected secret elsewhere ("...I typed hunter2hunter again") leak it too.
    secrets = {
        text[s:e]: info
        for (s, e), info in found.items()
        if info[0] >= Severity.MEDIUM and e - s >= _REPEAT_MIN
    }
    for secret, info in secrets.items():
        pos = text.find(secret)
        while pos >= 0:
            found.setdefault((pos, pos + len(secret)), info)
            pos = text.find(secret, pos + 1)
    return [(s, e, sev, idx) for (s, e), (sev, idx) in found.items()]


def _merge(raw: list[tuple[int, int, Severity, int]]) -> list[Finding]:
    """Union overlapping spans; the most severe (then most specific) rule names the union."""
    raw.sort(key=lambda r: (r[0], -r[1]))
    merged: list[Finding] = []
    start, end, best = raw[0][0], raw[0][1], raw[0]
    for r in raw[1:]:
        if r[0] < end:
            end = max(end, r[1])
            if (r[2], -r[3]) > (best[2], -best[3]):
                best = r
            continue
        merged.append(_finding(best, start, end))
        start, end, best = r[0], r[1], r
    merged.append(_finding(best, start, end))
    return merged


def _finding(best: tuple[int, int, Severity, int], start: int, end: int) -> Finding:
    rule = _RULES[best[3]]
    return Finding(rule.kind, rule.name, best[2], start, end)


def _scan(text: str, rules: Iterable[int], min_severity: Severity) -> list[Finding]:
    raw = _raw_matches(text, rules)
    if not raw:
        return []
    return [f for f in _merge(raw) if f.severity >= min_severity]


def scan(text: str, min_severity: Severity = Severity.LOW) -> list[Finding]:
    """Sensitive spans in `text` at or above `min_severity`, merged and sorted by start.

    Overlaps are merged before the severity filter, so a LOW base64 run that extends a HIGH
    secret widens it instead of being cut off at the threshold.
    """
    if min_severity > Severity.LOW and text.isalnum() and _HEX_WORD.fullmatch(text) is not None:
        return []
    rules = _active_rules(text)
    # A merged finding is as severe as its worst match, and only a match of `min_severity` is
    # repeated: without a rule that reaches it (a digest, a uuid) there is nothing to find.
    if not any(_RULES[i].severity >= min_severity for i in rules):
        return []
    return _scan(text, rules, min_severity)


def redact(
    text: str, min_severity: Severity = Severity.MEDIUM, replacement: str = "[REDACTED]"
) -> tuple[str, list[Finding]]:
    """`text` with each merged finding at or above `min_severity` replaced, and the findings.

    The findings' offsets refer to the original text.
    """
    findings = scan(text, min_severity)
    if not findings:
        return text, findings
    parts: list[str] = []
    pos = 0
    for f in findings:
        parts.append(text[pos : f.start])
        parts.append(replacement)
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts), findings


_KIND_NAMES: Final[dict[str, tuple[str, str]]] = {
    "api_key": ("API key", "API keys"),
    "secret": ("secret", "secrets"),
    "password": ("password", "passwords"),
    "token": ("access token", "access tokens"),
    "aws_key": ("AWS key", "AWS keys"),
    "database_url": ("database URL with credentials", "database URLs with credentials"),
    "private_key": ("private key", "private keys"),
    "jwt": ("JSON web token", "JSON web tokens"),
    "credit_card": ("credit card number", "credit card numbers"),
    "ssn": ("social security number", "social security numbers"),
    "generic_secret": ("long random string", "long random strings"),
}


def describe(findings: list[Finding]) -> str:
    """A one-line summary naming kinds and counts, most severe first.

    It never contains matched text, not even masked, so callers can put it in error messages
    and logs.
    """
    if not findings:
        return "no sensitive content found"
    counts: dict[str, int] = {}
    worst: dict[str, Severity] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
        worst[f.kind] = max(worst.get(f.kind, Severity.LOW), f.severity)
    kinds = sorted(counts, key=lambda k: -worst[k])  # stable: first appearance breaks ties
    parts = []
    for kind in kinds:
        one, many = _KIND_NAMES.get(kind, (kind.replace("_", " "), kind.replace("_", " ") + "s"))
        parts.append(f"{counts[kind]} {one if counts[kind] == 1 else many}")
    top = max(worst.values()).name.lower()
    return f"sensitive content found: {', '.join(parts)} (highest severity: {top})"
