"""Tests for engine.sensitive: detection, false-positive guards, merging, redaction, describe."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine import sensitive
from engine.sensitive import Finding, Severity, describe, redact, scan

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
RSA_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)
GIT_SHA = "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"
BASE64_BLOB = "Q2hlY2sgdGhpcyBvdXQ6IGh0dHBzOi8vZXhhbXBsZS5jb20vYS9iL2M="


def only(text: str, min_severity: Severity = Severity.LOW) -> Finding:
    findings = scan(text, min_severity)
    assert len(findings) == 1, findings
    return findings[0]


# --- every pattern, with a realistic example -------------------------------------------------

H, M, L = Severity.HIGH, Severity.MEDIUM, Severity.LOW

# (kind, severity, text with the secret that must be covered between « and »)
DETECTED: list[tuple[str, Severity, str]] = [
    ("api_key", H, "export OPENAI_API_KEY=«Zx9Qm3Lp7Rt2Vb8Nc4Kd»"),
    ("api_key", H, '{"api-key": "«a1b2c3d4e5f6g7h8i9j0»"}'),
    ("api_key", H, "ACCESS_KEY: «Kq8sVn2LmX0pRt5YwZ3b»"),
    ("secret", H, "client_secret: «Kq8sVn2LmX0pRt5YwZ3b»"),
    ("secret", H, "SECRET_KEY = '«django-insecure-8f2k1m9x7q3w»'"),
    ("secret", H, "SECRET_ACCESS_KEY=«wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY»"),
    ("secret", H, "PRIVATE_KEY=«0x4c0883a69102937d6231471b5dbb6204fe5129617082»"),
    ("password", H, "the db password=«Tr0ub4dor&3» for staging"),
    ("password", H, "PWD: «hunter22»"),
    ("password", H, 'passwd => "«correct horse battery staple»"'),
    ("token", H, "auth_token=«ya29.A0ARrdaM-abc123XYZ»"),
    ("token", H, "curl -H 'Authorization: Bearer «abcDEF123456ghiJKL789»'"),
    ("aws_key", H, "aws_access_key_id = «AKIAIOSFODNN7EXAMPLE»"),
    ("aws_key", H, "aws_secret_access_key=«wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY»"),
    ("database_url", H, "DATABASE_URL=postgres://«app:s3cr3tpw»@db.internal:5432/app"),
    ("database_url", H, "postgresql://«admin:hunter22»@localhost/prod"),
    ("database_url", H, "mysql://«root:toor1234»@127.0.0.1:3306/shop"),
    ("database_url", H, "mongodb://«reader:Passw0rd!»@mongo1:27017/logs"),
    ("database_url", H, "mongodb+srv://«svc:Xy7pQ9rT»@cluster0.ab1cd.mongodb.net/db"),
    ("database_url", H, "REDIS_URL=redis://«:cachepass99»@cache:6379/0"),
    ("database_url", H, "amqp://«guest:rabbit4321»@mq:5672/"),
    ("private_key", H, f"key file:\n«{RSA_KEY}»\n"),
    ("jwt", M, f"token «{JWT}» expired"),
    ("credit_card", H, "card «4111 1111 1111 1111» exp 12/26"),
    ("credit_card", H, "mc «5500-0000-0000-0004»"),
    ("credit_card", H, "amex «3782 822463 10005»"),
    ("credit_card", H, "discover «6011111111111117»."),
    ("ssn", H, "SSN «123-45-6789» on file"),
    ("generic_secret", L, f"blob «{BASE64_BLOB}» end"),
    ("generic_secret", L, f"commit «{GIT_SHA}»"),
    ("api_key", H, "OPENAI=«sk-proj-Ab3dEf6hIj9kLm2nOp5q»"),
    ("api_key", H, "«sk_live_4eC39HqLyjWDarjtT1zdp7dc»"),
    ("api_key", H, "gh auth «ghp_16C7e42F292c6912E7710c838347Ae178B4a»"),
    ("api_key", H, "«github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz»"),
    ("api_key", H, "SLACK=«xoxb-123456789012-1234567890123-AbCdEfGhIjKl»"),
    ("api_key", H, "maps key «AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe»"),
]


def unmark(marked: str) -> tuple[str, str]:
    """("a «b» c") -> ("a b c", "b")."""
    before, rest = marked.split("«")
    secret, after = rest.split("»")
    return before + secret + after, secret


@pytest.mark.parametrize(("kind", "severity", "marked"), DETECTED)
def test_pattern_detected(kind: str, severity: Severity, marked: str) -> None:
    text, secret = unmark(marked)
    finding = only(text)
    assert (finding.kind, finding.severity) == (kind, severity)
    assert text[finding.start : finding.end] == secret


@pytest.mark.parametrize("algo", ["RSA ", "DSA ", "EC ", "OPENSSH ", "ENCRYPTED ", ""])
def test_private_key_block_redacted_whole(algo: str) -> None:
    body = "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu"
    text = f"-----BEGIN {algo}PRIVATE KEY-----\n{body}\n-----END {algo}PRIVATE KEY-----\nok"
    finding = only(text)
    assert finding.kind == "private_key"
    assert redact(text)[0] == "[REDACTED]\nok"


def test_pgp_block_and_header_without_footer() -> None:
    pgp = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0Z4m8BCADm0vcN3s2aRz\n"
    assert only(pgp).kind == "private_key"
    # A pasted key cut off before its footer: the body goes too, the prose after it stays.
    cut = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nthen we left"
    assert redact(cut)[0] == "[REDACTED]\nthen we left"


# --- false-positive guards -------------------------------------------------------------------

CLEAN = [
    "Had a meeting with Alice about the API design",
    "my password policy is strict",
    "Passwords must rotate every 90 days; the secret is consistency",
    "The secret: nobody knows",
    "call me at 555-1234",
    "call me at +1 555-123-4567 or 555 123 4567",
    "Order number 1002345678912345 shipped on 2024-01-15 10:30",
    "order #100234567891",
    "the token bucket refills 1000 tokens per second",
    "we use sk-learn-style-module-names-everywhere-now",
    "read https://github.com/owner/repo/blob/main/src/engine/Extraction2/classify.py",
    "Bearer of bad news",
    "SSN-like but invalid: 000-12-3456, 666-12-3456, 912-12-3456, 123-00-4567, 123-45-0000",
    "API key rotation is scheduled for Friday",
    "我们在星期二开会讨论了把支付服务迁移到新的数据库集群的计划",
    "password: [REDACTED]",
    "password=${DB_PASSWORD} and api_key=<your-api-key-goes-here>",
    "api_key = xxxxxxxxxxxxxxxxxxxx",
    "Password: ....",
]


@pytest.mark.parametrize("text", CLEAN)
def test_no_false_positive(text: str) -> None:
    assert scan(text) == []


def test_card_must_pass_luhn_and_issuer() -> None:
    assert only("4111 1111 1111 1111").kind == "credit_card"
    assert scan("4111-1111-1111-1112") == []
    assert scan("1111 1111 1111 1117") == []  # passes Luhn, but no issuer starts with 1


@given(st.text(alphabet=string.digits, min_size=16, max_size=16))
def test_sixteen_digits_failing_luhn_are_not_cards(digits: str) -> None:
    assume(not luhn_valid(digits))
    assert all(f.kind != "credit_card" for f in scan(f"ref {digits} ok"))


def test_card_like_numbers_failing_luhn() -> None:
    for digits in ("4929123456789012", "4929 1234 5678 9012", "5105-1051-0510-5101"):
        assert scan(f"card {digits}") == []
    assert only("5105 1051 0510 5100").kind == "credit_card"


def test_card_inside_a_longer_digit_run() -> None:
    # Grouped runs are searched group-aligned: the card before an expiry date is still found,
    # while 20 contiguous digits are not a card at all.
    assert only("4111 1111 1111 1111 12 26").end == len("4111 1111 1111 1111")
    assert scan("41111111111111111111") == []


def test_git_sha_is_low_only() -> None:
    finding = only(f"fixed in {GIT_SHA}")
    assert finding.severity is Severity.LOW
    assert scan(f"fixed in {GIT_SHA}", Severity.MEDIUM) == []
    assert redact(f"fixed in {GIT_SHA}")[0] == f"fixed in {GIT_SHA}"


def test_uuid_is_not_high() -> None:
    for uuid in ("550e8400-e29b-41d4-a716-446655440000", "41234567-1234-5678-9abc-def012345678"):
        assert all(f.severity < Severity.HIGH for f in scan(f"request {uuid} failed"))


# --- merging ---------------------------------------------------------------------------------


def test_bearer_jwt_merged_into_one_high_finding() -> None:
    text = f"Authorization: Bearer {JWT}"
    finding = only(text)
    assert (finding.kind, finding.severity) == ("token", Severity.HIGH)
    assert text[finding.start : finding.end] == JWT


def test_same_value_from_two_rules_reported_once() -> None:
    finding = only("api_key=sk-abc123DEF456ghi789JKL012mno")
    assert finding.pattern == "OpenAI-style Secret Key"  # the more specific rule names it


def test_low_run_extending_a_secret_widens_it() -> None:
    # The sk- rule stops at '/', the base64 run goes on: redaction must take both.
    secret = "sk-proj-AbC123dEf456GhI789jKl012MnO345/pQr678StU901vWx+yz"
    text = f"key {secret} here"
    finding = only(text, Severity.MEDIUM)
    assert text[finding.start : finding.end] == secret
    assert redact(text)[0] == "key [REDACTED] here"


def test_merge_unions_overlapping_spans() -> None:
    high = sensitive._RULES.index(next(r for r in sensitive._RULES if r.kind == "password"))
    low = len(sensitive._RULES) - 1
    raw = [(5, 20, Severity.LOW, low), (0, 10, Severity.HIGH, high), (20, 25, Severity.LOW, low)]
    merged = sensitive._merge(raw)
    assert [(f.start, f.end, f.severity, f.kind) for f in merged] == [
        (0, 20, Severity.HIGH, "password"),
        (20, 25, Severity.LOW, "generic_secret"),
    ]


def test_findings_sorted_by_start() -> None:
    text = f"ssn 123-45-6789, {GIT_SHA}, password=hunter22, 4111111111111111"
    starts = [f.start for f in scan(text)]
    assert starts == sorted(starts)
    assert len(starts) == 4


def test_repeated_copies_of_a_secret_are_found() -> None:
    text = "password: hunter2hunter ... later I typed hunter2hunter into the wrong box"
    assert [f.kind for f in scan(text)] == ["password", "password"]
    assert "hunter" not in redact(text)[0]


# --- redaction -------------------------------------------------------------------------------


def test_redact_keeps_surrounding_text() -> None:
    text = "Deploy with password=hunter2hunter tomorrow, ask Bob"
    redacted, findings = redact(text)
    assert redacted == "Deploy with password=[REDACTED] tomorrow, ask Bob"
    assert [f.kind for f in findings] == ["password"]


def test_redact_database_url_keeps_host() -> None:
    redacted, _ = redact("db at postgresql+psycopg2://admin:p@ss@db.internal:5432/app ok")
    assert redacted == "db at postgresql+psycopg2://[REDACTED]@db.internal:5432/app ok"


def test_redact_threshold_and_replacement() -> None:
    text = f"jwt {JWT} sha {GIT_SHA} card 4111111111111111"
    assert redact(text, Severity.HIGH, "***")[0] == f"jwt {JWT} sha {GIT_SHA} card ***"
    assert redact(text)[0] == f"jwt [REDACTED] sha {GIT_SHA} card [REDACTED]"
    assert redact(text, Severity.LOW, "#")[0] == "jwt # sha # card #"


def test_redact_without_findings_returns_text_unchanged() -> None:
    assert redact("nothing to see") == ("nothing to see", [])


@pytest.mark.parametrize("marked", [marked for _, _, marked in DETECTED])
def test_redacted_text_scans_clean(marked: str) -> None:
    text, secret = unmark(marked)
    redacted, _ = redact(text, Severity.LOW)
    assert secret not in redacted
    assert scan(redacted) == []


# --- masked and describe ---------------------------------------------------------------------


def test_masked() -> None:
    text = "pw=abcd and pw=abcdefgh and key=abcdefghijkl"
    assert Finding("password", "p", Severity.HIGH, 3, 7).masked(text) == "****"
    assert Finding("password", "p", Severity.HIGH, 15, 23).masked(text) == "****"
    masked = Finding("secret", "s", Severity.HIGH, 32, 44).masked(text)
    assert masked == "abcd****ijkl"


def test_describe_names_kinds_and_counts() -> None:
    text = "password: hunter2hunter, card 4111 1111 1111 1111, card 5500-0000-0000-0004"
    assert describe(scan(text)) == (
        "sensitive content found: 1 password, 2 credit card numbers (highest severity: high)"
    )
    text = f"sha {GIT_SHA} jwt {JWT}"
    assert describe(scan(text)) == (
        "sensitive content found: 1 JSON web token, 1 long random string (highest severity: medium)"
    )
    assert describe([]) == "no sensitive content found"


@pytest.mark.parametrize("marked", [marked for _, _, marked in DETECTED])
def test_describe_never_echoes_secret(marked: str) -> None:
    text, secret = unmark(marked)
    findings = scan(text)
    message = describe(findings)
    assert secret[:6] not in message
    for f in findings:
        assert text[f.start : f.end] not in message
        assert f.masked(text) not in message


# --- properties ------------------------------------------------------------------------------

_ALNUM = string.ascii_letters + string.digits
# No brackets, quotes, '$', '{' or '<': those make placeholder shapes ("[REDACTED]", "${X}").
_PASSWORD_CHARS = _ALNUM + "!#%&*+-.,;:@^_~?/=()"


def luhn_valid(number: str) -> bool:
    """The Luhn check written out from its definition, independent of the code under test:
    from the right, every second digit is doubled (less 9 when that exceeds 9); the sum of all
    digits must end in 0."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def test_the_test_luhn_is_right() -> None:
    """Published examples: the oracle itself is checked, not trusted."""
    for valid in ("79927398713", "4111111111111111", "5105105105105100", "378282246310005"):
        assert luhn_valid(valid), valid
    for invalid in ("79927398710", "4111111111111112", "1234567812345678"):
        assert not luhn_valid(invalid), invalid


def _luhn_complete(partial: str) -> str:
    [check] = [c for c in string.digits if luhn_valid(partial + c)]  # exactly one digit fits
    return partial + check


@st.composite
def cards(draw: st.DrawFn) -> tuple[str, str]:
    prefix, length, groups = draw(
        st.sampled_from(
            [
                ("4", 16, (4, 4, 4, 4)),
                ("4", 13, (4, 4, 5)),
                ("51", 16, (4, 4, 4, 4)),
                ("55", 16, (4, 4, 4, 4)),
                ("2221", 16, (4, 4, 4, 4)),
                ("34", 15, (4, 6, 5)),
                ("37", 15, (4, 6, 5)),
                ("6011", 16, (4, 4, 4, 4)),
                ("65", 16, (4, 4, 4, 4)),
                ("3530", 16, (4, 4, 4, 4)),
                ("36", 14, (4, 6, 4)),
                ("62", 16, (4, 4, 4, 4)),
            ]
        )
    )
    body = draw(
        st.text(string.digits, min_size=length - len(prefix) - 1, max_size=length - len(prefix) - 1)
    )
    number = _luhn_complete(prefix + body)
    sep = draw(st.sampled_from(["", " ", "-"]))
    parts, pos = [], 0
    for size in groups:
        parts.append(number[pos : pos + size])
        pos += size
    formatted = sep.join(parts)
    label = draw(st.sampled_from(["card ", "Visa: ", "paid with ", "cc="]))
    return label + formatted, formatted


@st.composite
def api_keys(draw: st.DrawFn) -> tuple[str, str]:
    style = draw(st.sampled_from(["generic", "json", "sk", "github", "aws", "slack"]))
    if style in ("generic", "json"):
        name = draw(
            st.sampled_from(["api_key", "API_KEY", "apiKey", "x-api-key", "OPENAI_API_KEY"])
        )
        value = draw(
            st.text(_ALNUM + "_-", min_size=16, max_size=48).filter(lambda v: len(set(v)) > 1)
        )
        line = f'"{name}": "{value}"' if style == "json" else f"{name}={value}"
        return line, value
    if style == "sk":
        body = draw(
            st.text(_ALNUM, min_size=20, max_size=48).filter(
                lambda v: any(c.isdigit() or c.isupper() for c in v)
            )
        )
        value = "sk-" + draw(st.sampled_from(["", "proj-", "ant-"])) + body
    elif style == "github":
        value = "ghp_" + draw(st.text(_ALNUM, min_size=36, max_size=36))
    elif style == "aws":
        value = "AKIA" + draw(
            st.text(string.ascii_uppercase + string.digits, min_size=16, max_size=16)
        )
    else:
        value = "xoxb-" + draw(st.text(_ALNUM + "-", min_size=10, max_size=40))
    return f"use {value} for it", value


@st.composite
def passwords(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(
        st.sampled_from(["password", "Password", "PASSWD", "pwd", "db_password", "passphrase"])
    )
    sep = draw(st.sampled_from(["=", ": ", " = ", "=>", ":"]))
    quoted = draw(st.booleans())
    alphabet = _PASSWORD_CHARS + (" " if quoted else "")
    value = draw(
        st.text(alphabet, min_size=6, max_size=30).filter(
            lambda v: len(set(v)) > 1 and v.strip() == v and v[0] not in "\"'"
        )
    )
    return (f'{name}{sep}"{value}"' if quoted else f"{name}{sep}{value}"), value


secrets = st.one_of(cards(), api_keys(), passwords())


def _grams(secret: str) -> set[str]:
    return {secret[i : i + 6] for i in range(len(secret) - 5)}


@settings(deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(secrets, st.text(max_size=40), st.text(max_size=40))
def test_redact_leaves_no_fragment_of_an_embedded_secret(
    line_and_secret: tuple[str, str], prefix: str, suffix: str
) -> None:
    line, secret = line_and_secret
    context = line.replace(secret, "\n")  # the keyword around it stays, so it must not overlap
    assume(not any(g in prefix or g in suffix or g in context for g in _grams(secret)))
    text = f"{prefix}\n{line}\n{suffix}"
    redacted, findings = redact(text)
    assert findings
    assert not any(g in redacted for g in _grams(secret)), redacted
    assert scan(redacted, Severity.MEDIUM) == []


@given(st.text(st.characters(exclude_categories=[]), max_size=300))
def test_scan_never_raises_on_arbitrary_unicode(text: str) -> None:
    findings = scan(text)
    describe(findings)
    redact(text, Severity.LOW)
    for f in findings:
        assert 0 <= f.start < f.end <= len(text)


# Pieces that combine into near-misses of every rule, to exercise the pre-filter's edges.
FRAGMENTS = [
    *"password PWD passwd api_key secret token Bearer = : ' \" - 4111 1111 5500 0000".split(),
    *"0004 123 45 6789 :// @ postgres redis user AKIA sk- ghp_ xoxb- AIza eyJ . +/ é 中".split(),
    *"abcdef0123456789 QUJDREVGR0hJSktMTU5PUA".split(),
    *[" ", "\n", "-----BEGIN ", "PRIVATE KEY-----"],
]


@settings(deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=40))
def test_prefilter_and_hints_change_nothing(parts: list[str]) -> None:
    # The pre-filter, per-rule hints and the skip when no active rule reaches the threshold are
    # pure speed-ups: same result as running every rule.
    text = "".join(parts)
    everything = range(len(sensitive._RULES))
    for severity in Severity:
        assert scan(text, severity) == sensitive._scan(text, everything, severity)


@settings(deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text("0123456789abcdefABCDEF", max_size=40),
            st.sampled_from(["4111111111111111", "5500000000000004", "123456789", "deadbeef"]),
        ),
        max_size=6,
    )
)
def test_a_hex_word_skips_the_rules_only_when_they_could_find_nothing(parts: list[str]) -> None:
    # Memory ids (hex) are screened by a shortcut: the same findings as running every rule.
    text = "".join(parts)
    everything = range(len(sensitive._RULES))
    for severity in Severity:
        assert scan(text, severity) == sensitive._scan(text, everything, severity)


def test_no_rule_hint_is_made_of_hex_digits() -> None:
    # What the hex-word shortcut relies on, besides the card and SSN rules' shapes.
    hexdigits = set(string.hexdigits.lower())
    assert not any(set(h) <= hexdigits for rule in sensitive._RULES for h in rule.hints)


@pytest.mark.parametrize(
    ("text", "kinds", "count"),
    [
        ("1 " * 50_000 + "x", set(), 0),  # a digit run glued to a letter: no card, no retry storm
        ("-----BEGIN PRIVATE KEY-----\nshort\n" * 3_000, {"private_key"}, 3_000),
        ("123-45-" * 15_000, set(), 0),
        ("".join(f"password=pw{i:06d} " for i in range(2_000)), {"password"}, 2_000),
        ("a" * 100_000 + "!", {"generic_secret"}, 1),
    ],
    ids=["digit-run", "pem-headers", "ssn-ish", "many-passwords", "long-word"],
)
def test_pathological_inputs_give_exact_findings(text: str, kinds: set[str], count: int) -> None:
    # Inputs that once took seconds (their speed is measured in tools/bench/sensitive.py).
    found = scan(text)
    assert {f.kind for f in found} == kinds
    assert len(found) == count


@given(cards(), st.data())
def test_a_card_with_one_digit_changed_is_no_card(
    card: tuple[str, str], data: st.DataObject
) -> None:
    """Luhn catches every single-digit error: the scanner must drop such a number."""
    text, number = card
    spots = [i for i, c in enumerate(number) if c.isdigit()]
    spot = data.draw(st.sampled_from(spots))
    other = data.draw(st.sampled_from([d for d in string.digits if d != number[spot]]))
    changed = number[:spot] + other + number[spot + 1 :]
    assert not luhn_valid(changed.replace(" ", "").replace("-", ""))
    assert all(f.kind != "credit_card" for f in scan(text.replace(number, changed)))
