"""The dashboard end to end: headless Debian Chromium driven by Playwright against a real
`nmem serve` on 127.0.0.1. Each page loads, a recall shows ranked memories with their paths,
the time slider takes the brain back to before a memory existed, pinning appends an event
to the memory's history, a write made by the CLI appears without a reload, and the graph is
usable from the keyboard. Screenshots of every page go to tests/output/dashboard/."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from services import ROOT, need, nmem, serving

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "tests" / "output" / "dashboard"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
TEAM = [
    ("Alice moved payments to PostgreSQL 16", ["payments"]),
    ("Bob fixed the login bug in the auth service", ["auth"]),
    ("Payments team decided to use Redis for caching", ["payments"]),
    ("Carol prefers dark mode in the editor", []),
    ("The auth service runs on PostgreSQL 14", ["auth"]),
    ("Dave will migrate the payments ledger next sprint", ["payments"]),
]
LATE = "Eve wrote the runbook for the Redis failover"
WAIT = 15_000  # ms


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("playwright", "pip install -e '.[dashboard-test]' (see .ci/setup.d/50-chromium.sh)")
    if not CHROMIUM.exists():
        need("chromium", "apt-get install chromium (see .ci/setup.d/50-chromium.sh)")
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport={"width": 1366, "height": 800},
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    store = tmp_path_factory.mktemp("browser") / "store"
    with serving(store) as url, httpx.Client(base_url=url, timeout=20) as api:
        done = [
            api.post("/brains/team/memories", json={"text": t, "tags": tags}).json()
            for t, tags in TEAM
        ]
        late = api.post("/brains/team/memories", json={"text": LATE}).json()
        yield {"url": url, "store": store, "done": done, "late": late, "api": api}


@pytest.fixture
def page(browser: Any, site: dict[str, Any]) -> Iterator[Any]:
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    # uncaught errors and console errors fail a test; a fetch answered 404 (a memory that did
    # not exist yet) is the page working, so the browser's own line about it is not counted
    tab.on("console", lambda m: errors.append(m.text)
           if m.type == "error" and "status of 404" not in m.text else None)  # fmt: skip
    tab.set_default_timeout(WAIT)
    yield tab
    tab.close()
    assert not errors, errors


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def open_page(page: Any, site: dict[str, Any], fragment: str) -> None:
    page.goto(f"{site['url']}/ui#/{fragment}")
    page.wait_for_selector("#live.on")


def test_overview_shows_the_counts_and_the_newest_memories(page: Any, site: dict[str, Any]) -> None:
    open_page(page, site, "overview?brain=team")
    newest = page.locator("#newest")
    newest.get_by_text(LATE).wait_for()
    assert page.locator('[data-count="memories"] .n').inner_text() == str(len(TEAM) + 1)
    assert page.locator("svg.chart").count() == 1
    assert page.locator("#events li").count() == 8
    shot(page, "overview")


def test_slider_before_a_memory_existed_hides_it(page: Any, site: dict[str, Any]) -> None:
    open_page(page, site, "overview?brain=team")
    page.locator("#newest").get_by_text(LATE).wait_for()
    slider = page.locator("#slider")
    before = site["late"]["seq"] - 1
    slider.focus()
    slider.press("ArrowLeft")  # the keyboard moves the moment one event back
    page.wait_for_function(f"() => location.hash.includes('at={before}')")
    page.locator("#newest").get_by_text(LATE).wait_for(state="detached")
    assert page.locator('[data-count="memories"] .n').inner_text() == str(len(TEAM))
    assert f"as of seq {before}" in page.locator("#moment").inner_text()
    page.locator("#newest").get_by_text(TEAM[-1][0]).wait_for()
    shot(page, "overview-past")
    # its own page says it did not exist then, and comes back with "Now"
    page.goto(f"{site['url']}/ui#/memory/{site['late']['id']}?brain=team&at={before}")
    page.locator("#missing").wait_for()
    assert "did not exist" in page.locator("#missing").inner_text()
    page.locator("#now").click()
    page.locator("#memory-text").get_by_text(LATE).wait_for()


def test_recall_shows_ranked_memories_with_scores_and_paths(
    page: Any, site: dict[str, Any]
) -> None:
    open_page(page, site, "recall?brain=team")
    page.locator("#recall-q").fill("payments Redis")
    page.locator("#recall-q").press("Enter")
    first = page.locator("#results > li").first
    first.wait_for()
    assert TEAM[2][0] in first.inner_text()  # both words: ranked first
    assert page.locator("#results > li").count() >= 3
    assert first.locator(".paths li").count() >= 1
    assert first.locator(".step.anchor").first.inner_text() in ("payments", "redis", "Redis")
    assert "confidence" in page.locator("#recall-summary").inner_text()
    scores = [float(s) for s in page.locator("#results .mono").all_inner_texts()]
    assert scores == sorted(scores, reverse=True)
    shot(page, "recall")
    # as of a moment before the caching decision, it is not among the answers. Only the hash
    # changes: #moment says "as of" at once, while #results holds the answer of now until the
    # new render replaces the page, whose heading names the moment
    at = site["done"][1]["seq"]
    page.goto(f"{site['url']}/ui#/recall?brain=team&q=payments%20Redis&at={at}")
    page.get_by_text(f"team · as of seq {at}", exact=True).wait_for()
    assert TEAM[2][0] not in page.locator("#results").inner_text()


def test_graph_draws_the_neighbourhood_and_opens_a_memory_from_the_keyboard(
    page: Any, site: dict[str, Any]
) -> None:
    open_page(page, site, "graph?brain=team&q=payments")
    page.locator("svg.graph .node").first.wait_for()
    memories = page.locator('svg.graph .node[data-kind="memory"]')
    assert memories.count() >= 3
    assert page.locator("svg.graph line.edge").count() >= 2
    sizes = {
        float(r) for r in page.locator("svg.graph .node circle").evaluate_all(
            "cs => cs.map(c => c.getAttribute('r'))")
    }  # fmt: skip
    assert len(sizes) > 1  # sized by activation
    page.locator("svg.graph").press("+")  # zoom from the keyboard
    assert "scale(1.2)" in (page.locator("svg.graph > g").get_attribute("transform") or "")
    shot(page, "graph")
    target = memories.first
    memory_id = target.get_attribute("data-memory")
    target.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => location.hash.includes('memory/{memory_id}')")
    page.locator("#memory-text").wait_for()


def test_pin_appends_the_event_to_the_memory_history(page: Any, site: dict[str, Any]) -> None:
    memory = site["done"][3]
    open_page(page, site, f"memory/{memory['id']}?brain=team")
    page.locator("#memory-text").get_by_text(TEAM[3][0]).wait_for()
    assert page.locator('#history tr[data-type="memory_pinned"]').count() == 0
    page.get_by_role("button", name="Pin", exact=True).click()
    page.locator('#history tr[data-type="memory_pinned"]').wait_for()
    assert page.locator("#memory-status").inner_text() == "pinned"
    page.get_by_role("button", name="Unpin").wait_for()
    shot(page, "memory")
    history = site["api"].get("/brains/team/history", params={"memory_id": memory["id"]}).json()
    assert [e["type"] for e in history["events"]][-1] == "memory_pinned"


def test_edit_from_the_memory_page_is_an_event(page: Any, site: dict[str, Any]) -> None:
    memory = site["done"][4]
    open_page(page, site, f"memory/{memory['id']}?brain=team")
    page.get_by_role("button", name="Edit…").click()
    page.locator("#edit-text").fill("The auth service runs on PostgreSQL 15")
    page.locator("#edit-priority").fill("8")
    page.get_by_role("button", name="Save changes").click()
    page.locator("#memory-text").get_by_text("PostgreSQL 15").wait_for()
    page.locator('#history tr[data-type="memory_edited"]').wait_for()
    got = site["api"].get(f"/brains/team/memories/{memory['id']}").json()
    assert got["text"] == "The auth service runs on PostgreSQL 15"
    assert got["priority"] == 8


def test_a_write_made_by_the_cli_appears_live(page: Any, site: dict[str, Any]) -> None:
    open_page(page, site, "overview?brain=team")
    page.locator("#newest").get_by_text(LATE).wait_for()
    text = "Frank moved the nightly backups to object storage"
    done = subprocess.run(
        nmem("remember", text, "--store", str(site["store"]), "--brain", "team", "--json"),
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seq = json.loads(done.stdout)["seq"]
    page.locator("#newest").get_by_text(text).wait_for()  # no reload: the event stream
    page.wait_for_function(f"() => document.querySelector('#live').textContent.includes('#{seq}')")
    assert page.locator("#slider").get_attribute("max") == str(seq)


def test_diff_between_two_moments(page: Any, site: dict[str, Any]) -> None:
    start = site["done"][2]["seq"]
    open_page(page, site, f"diff?brain=team&from={start}")
    added = page.locator('#diff [data-group="added"]')
    added.get_by_text(LATE).wait_for()
    assert TEAM[0][0] not in added.inner_text()  # remembered before the first moment
    shot(page, "diff")


def test_play_replays_the_history_up_to_now(page: Any, site: dict[str, Any]) -> None:
    open_page(page, site, "overview?brain=team")
    page.locator("#play").click()
    page.wait_for_function("() => document.querySelector('#moment').textContent.includes('as of')")
    assert page.locator("#play").get_attribute("aria-pressed") == "true"
    page.wait_for_function(
        "() => document.querySelector('#play').getAttribute('aria-pressed') === 'false'",
        timeout=60_000,
    )
    assert "live" in page.locator("#moment").inner_text()


def test_a_read_token_sees_but_cannot_act(browser: Any, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({"tokens": [
        {"token": "read-token-0123", "brains": ["*"], "access": "read"},
        {"token": "write-token-0123", "brains": ["*"], "access": "write"},
    ]}))  # fmt: skip
    with serving(tmp_path / "store", "--tokens", str(tokens)) as url:
        write = {"Authorization": "Bearer write-token-0123"}
        created = httpx.post(
            f"{url}/brains/team/memories", json={"text": TEAM[0][0]}, headers=write, timeout=20
        )
        memory_id = created.json()["id"]
        page = browser.new_page()
        page.set_default_timeout(WAIT)
        try:
            page.goto(f"{url}/ui#/memory/{memory_id}?brain=team")
            page.locator("#token-input").fill("read-token-0123")
            page.locator("#token-input").press("Enter")
            page.locator("#memory-text").get_by_text(TEAM[0][0]).wait_for()
            page.wait_for_selector("#live.on")
            assert page.get_by_role("button", name="Pin", exact=True).is_disabled()
            assert "read-only" in page.locator(".actions").inner_text()
        finally:
            page.close()
