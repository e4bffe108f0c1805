"""Follow a brain served by `nmem serve` from elsewhere: its event stream is replayed into a
local store, so reads are local (and still work while the server is away, as of the last event
received), while writes go to the server, come back on the stream, and land here too.

    with Follower("http://server:8765", "team", token="...", local_store_path="~/replica") as f:
        f.sync()                                          # catch up once (or f.start(): keep up)
        f.view().recall("what database do payments use?")  # answered locally
        done = f.remember("Payments moved to PostgreSQL 16")  # written on the server
        f.sync()                                          # ... and replayed here (f.wait_for(seq))

The replica is a brain of the local store (named like the server's, or `local_brain`) holding
the server brain's events with their seqs and recorded times: `Brain.import_history` appends
them, exactly as `nmem import` of an exported history would, so the local projection is the
server's (reads `at` any past seq agree). The replica must not be written to locally; `view()`
gives read-only views (a view's recall reinforces nothing). Each batch after the first is
imported as a continuation of the history held (a header "from" the next seq), so keeping up
costs what the new events cost, however long the log.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect

from engine.errors import Error, InputError, NotFoundError
from engine.reads import BrainView

if TYPE_CHECKING:
    from engine import Brain, Store

__all__ = ["Follower", "RemoteError", "client", "refusal"]

BATCH: Final = 4096  # events imported at once
RETRY_SECONDS: Final = 1.0


class RemoteError(Error):
    """The server refused a request (status 401, 403, 5xx...) or could not be reached (0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def refusal(status: int, body: bytes) -> Error:
    """The error for a refused request: 400 bad input, 404 not found, else a RemoteError."""
    try:
        message = str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        message = body.decode("utf-8", "replace")[:200] or f"HTTP {status}"
    if status == 400:
        return InputError(message)
    if status == 404:
        return NotFoundError(message)
    return RemoteError(status, f"the server answered {status}: {message}")


def client(url: str, headers: dict[str, str], timeout: float) -> httpx.Client:
    """An HTTP client for the server at `url`; over plain http it loads no certificate store
    (a third of a second a process, which a one-shot `nmem --remote` command would pay)."""
    tls = urlsplit(url).scheme == "https"
    return httpx.Client(base_url=url, headers=headers, timeout=timeout, verify=tls)


class Follower:
    """A local replica of brain `brain` of the server at `url` (http://host:port)."""

    def __init__(
        self,
        url: str,
        brain: str,
        token: str | None = None,
        local_store_path: str | Path | None = None,
        *,
        local_brain: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        from engine import Store

        self.url = url.rstrip("/")
        self.brain = brain
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._source_id: str | None = None
        self.seq = 0  # the server's seq this replica holds (known once attached)
        self.error: BaseException | None = None
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.store: Store = Store(local_store_path)
        # A replica holds the server's events only: it must never sweep decay by itself (the
        # server's sweeps arrive as events), or its log would part from the server's.
        self.store.auto_sweep = False
        try:
            self.local: Brain = self.store.brain(local_brain or brain)
        except BaseException:
            self.store.close()
            raise
        self._http = client(self.url, self._headers, timeout)

    # -- reads (local) ---------------------------------------------------------------------

    def view(self) -> BrainView:
        """The replica as of the last event received: recall, get, memories, history, stats,
        at... (call again for a newer view)."""
        return BrainView(self.local, self.local.seq, self.store.now())

    # -- writes (remote) ---------------------------------------------------------------------

    def remember(self, text: str, **fields: Any) -> dict[str, Any]:
        """Remember on the server (fields as in POST /brains/{brain}/memories: type, priority,
        tags, expires_days, time, project, cid, sensitive); returns its Remembered dict (`seq`:
        the event to `wait_for`)."""
        done: dict[str, Any] = self.call("POST", "memories", {"text": text, **fields})
        return done

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """Any REST call on the followed brain: `call("POST", "memories/3fa2c1d0/forget")`."""
        url = f"/brains/{quote(self.brain, safe='')}/{path.lstrip('/')}"
        return self._request(method, url, body)

    def _request(self, method: str, url: str, body: Any = None) -> Any:
        try:
            response = self._http.request(method, url, json=body)
        except httpx.HTTPError as exc:
            raise RemoteError(0, f"cannot reach {self.url}: {exc}") from None
        if response.status_code >= 400:
            raise refusal(response.status_code, response.content)
        return response.json()

    # -- replaying -----------------------------------------------------------------------------

    def _attach(self) -> None:
        """Learn the server brain's id; find how much of it the local replica holds."""
        if self._source_id is not None:
            return
        source_id, _ = self._server_head()
        head = self.local.seq
        first = self.local.events(after=0, limit=1)
        adopted = bool(first) and first[0].cid == f"import:{source_id}:1"  # the creation
        if not adopted and head > 1:
            raise InputError(
                f"local brain {self.local.name!r} is not a replica of brain {self.brain!r} of "
                f"{self.url}: follow it into a new local brain"
            )
        self._source_id, self.seq = source_id, head if adopted else 0

    def _server_head(self) -> tuple[str, int]:
        for entry in self._request("GET", "/brains")["brains"]:
            if entry["name"] == self.brain:
                return str(entry["id"]), int(entry["seq"])
        raise NotFoundError(f"{self.url} has no brain {self.brain!r} (or the token lacks it)")

    def _apply(self, events: list[dict[str, Any]]) -> None:
        """Append received events (seq self.seq+1, ...) to the replica."""
        if not events:
            return
        from engine import importing  # only when there is something to replay

        assert self._source_id is not None
        first = int(events[0]["seq"])
        total = first + len(events) - 1
        now = self.store.now()
        header = importing.history_header(self._source_id, self.brain, total, now, now, first=first)
        # the server accepted these texts already: no second sensitive-content screening
        done = self.local.import_history([header, *events], sensitive="allow")
        with self._changed:
            self.seq = int(done["seq"])
            self._changed.notify_all()

    def _connect(self) -> ClientConnection:
        parts = urlsplit(self.url)
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        path = f"{parts.path}/brains/{quote(self.brain, safe='')}/events"
        uri = urlunsplit((scheme, parts.netloc, path, f"from={self.seq}", ""))
        try:
            return connect(
                uri, additional_headers=self._headers, open_timeout=self.timeout, max_size=2**27
            )
        except InvalidStatus as exc:
            raise refusal(exc.response.status_code, bytes(exc.response.body or b"")) from None
        except (OSError, WebSocketException) as exc:
            raise RemoteError(0, f"cannot reach {self.url}: {exc}") from None

    def sync(self) -> int:
        """Catch up with the server once; returns the seq now held (the server's at the call)."""
        self._attach()
        _, head = self._server_head()
        if head <= self.seq:
            return self.seq
        with self._connect() as ws:
            batch: list[dict[str, Any]] = []
            last = self.seq
            while last < head:
                batch.append(json.loads(ws.recv(timeout=self.timeout)))
                last = int(batch[-1]["seq"])
                if len(batch) >= BATCH:
                    self._apply(batch)
                    batch = []
            self._apply(batch)
        return self.seq

    def start(self) -> Follower:
        """Keep following in a background thread (reconnecting while the server is away) until
        `stop()`; a replica that cannot take the server's events stops with `error` set."""
        if self._thread is None:
            self._attach()
            self._stop.clear()
            self._thread = threading.Thread(target=self._follow, name="nmem-follow", daemon=True)
            self._thread.start()
        return self

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                with self._connect() as ws:
                    while not self._stop.is_set():
                        try:
                            batch = [json.loads(ws.recv(timeout=0.2))]
                        except TimeoutError:
                            continue
                        while len(batch) < BATCH:
                            try:
                                batch.append(json.loads(ws.recv(timeout=0)))
                            except TimeoutError:
                                break
                        self._apply(batch)
            except (WebSocketException, OSError) as exc:
                self.error = exc  # the server went away: try again
            except RemoteError as exc:
                self.error = exc
                if 0 < exc.status < 500:
                    break
            except Exception as exc:  # the replica cannot take these events: give up
                self.error = exc
                break
            self._stop.wait(RETRY_SECONDS)
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, seq: int, timeout: float = 10.0) -> int:
        """Block until the replica holds event `seq` (with `start()`); returns the seq held."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.seq < seq:
                left = deadline - time.monotonic()
                if self._thread is not None and not self._thread.is_alive() and self.error:
                    raise self.error
                if left <= 0:
                    raise TimeoutError(f"the replica holds seq {self.seq}, not yet {seq}")
                self._changed.wait(min(left, 0.5))
        return self.seq

    def catch_up(self, seq: int | None = None) -> int:
        """Return once the replica holds event `seq` (None: the server's head now): waiting for
        the follow thread when it runs, else syncing here. How a write through this follower
        is acknowledged only once the next read will see it."""
        if self._thread is None:
            return self.seq if seq is not None and self.seq >= seq else self.sync()
        if seq is None:
            _, seq = self._server_head()
        try:
            return self.wait_for(seq, timeout=self.timeout)
        except TimeoutError:
            raise RemoteError(
                0,
                f"{self.url} committed event {seq} but it did not reach the replica within "
                f"{self.timeout:g} s",
            ) from None

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()

    def close(self) -> None:
        self.stop()
        self._http.close()
        self.store.close()

    def __enter__(self) -> Follower:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
