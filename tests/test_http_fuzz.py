"""Schemathesis against the server's own OpenAPI document: for every operation, requests
generated from its schema (valid ones and, in the negative mode, invalid ones) go to a real
`nmem serve` on 127.0.0.1 (with a token file: the document says which routes need one). No
reply may be a 5xx, every reply must match its documented status, media type, headers and
schema, and no request the schema forbids may be accepted.

Bounded (NMEM_FUZZ_EXAMPLES per operation and mode, default 15) so the suite stays within
about two minutes on two busy cores; raise it to search longer.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import ParameterLocation
from services import serving

from adapters.http_schemas import PATH
from adapters.http_server import openapi_document

EXAMPLES = int(os.environ.get("NMEM_FUZZ_EXAMPLES", "15"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
]

schema = schemathesis.openapi.from_dict(openapi_document()).exclude(operation_id="events")
TOKEN = "fuzz-token-0001"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KNOWN: dict[str, str] = {}
# an invalid request may also be refused as too large (413: a text over its maxLength can be
# over the body limit too) or too slow (408)
rejected = schema.config.checks.negative_data_rejection
rejected.expected_statuses = [*rejected.expected_statuses, "408", "413"]


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home: Path = tmp_path_factory.mktemp("fuzz")
    tokens = home / "tokens.json"
    grant = {"token": TOKEN, "brains": ["*"], "access": "write"}
    tokens.write_text(json.dumps({"tokens": [grant]}))
    with (
        serving(home / "store", "--tokens", str(tokens)) as u,
        httpx.Client(base_url=u, timeout=30, headers=AUTH) as api,
    ):
        assert api.post("/brains/f/projects", json={"name": "p1"}).status_code == 201
        done = api.post("/brains/f/memories", json=[
            {"text": "The launch of Quill is on Friday", "tags": ["launch"], "project": "p1"},
            {"text": "Alice prefers tea over coffee", "type": "preference"},
            {"text": "We decided to use PostgreSQL for the ledger", "type": "decision"},
        ])  # fmt: skip
        assert done.status_code == 201, done.text
        KNOWN["id"] = done.json()[0]["id"]
        yield u


@schema.hook("map_path_parameters")
def _known_names(context: Any, path: dict[str, Any] | None) -> dict[str, Any] | None:
    """Most valid generated names are swapped for the seeded brain, memory and project, so
    the routes do their real work instead of answering 404 (invalid ones stay, for the
    negative cases; a quarter of the valid ones stay too)."""
    for name, value in (path or {}).items():
        text = str(value)
        if zlib.crc32(text.encode()) % 4 == 0 or not _valid(name, text):
            continue
        if name == "brain":
            path[name] = "f"  # type: ignore[index]
        elif name == "id" and KNOWN:
            path[name] = KNOWN["id"][: 4 + zlib.crc32(text.encode()) % 28]  # type: ignore[index]
        elif name == "name":
            path[name] = "p1"  # type: ignore[index]
    return path


def _valid(name: str, value: str) -> bool:
    try:
        msgspec.convert(value, PATH[name])
    except msgspec.ValidationError:
        return False
    return True


def _headers(case: Any) -> dict[str, str] | None:
    """The token, unless the case's headers are the invalid part (a bad Authorization)."""
    info = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    return None if info is not None and info.mode is GenerationMode.NEGATIVE else AUTH


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_5xx_and_every_reply_matches_the_document(case: Any, url: str) -> None:
    case.call_and_validate(base_url=url, headers=_headers(case), checks=CHECKS, timeout=30)


def test_the_fuzz_covers_both_modes() -> None:
    modes = schema.config.generation.modes
    assert GenerationMode.POSITIVE in modes
    assert GenerationMode.NEGATIVE in modes
