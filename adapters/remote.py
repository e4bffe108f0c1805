"""`--remote URL --token T`: the CLI and `nmem mcp` on a brain served by `nmem serve`.

Reads are answered from a local replica that a `Follower` (adapters/http_follow.py) keeps:
the server brain's events, with their seqs and recorded times, in a store of its own on this
machine (`--store`, default `$NMEM_HOME/replicas/<host>_<port>`), so a recall costs what it
costs locally and `--at` works as of any past seq. Writes are sent to the server; each is
acknowledged (returned, so the CLI prints it) once the server has committed it and the replica
has folded it: the next read sees it (read-your-writes), in the same process or the next.

`RemoteBrain` is the replica's `Brain` with its write path replaced: every read is the
engine's own (inherited), every write the engine offers over HTTP goes to the server (the
semantic layer's too: the server's model embeds, and the vectors reach the replica in the
events), and any other write (imports) is refused, so the replica never holds an event the
server's log does not. A read over --remote reinforces nothing: reinforcement would be a write
to the replica, and sending each recall to the server would make reads remote.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, Final, NoReturn, ParamSpec, TypeVar
from urllib.parse import quote, urlsplit

from adapters.http_follow import Follower, RemoteError, client, refusal
from engine import Brain
from engine.api import Changed, MemoryInput, RecallResult, Remembered
from engine.errors import InputError, NotFoundError
from engine.logstore import is_url
from engine.model import MemoryType
from engine.store import DEFAULT_BRAIN, default_location

if TYPE_CHECKING:
    from engine import events as ev
    from engine.importing import Progress
    from engine.projection import Projection

__all__ = ["RemoteBrain", "connect", "replica_home"]

TOKEN_ENV: Final = "NMEM_TOKEN"
# Brain.edit's arguments that the HTTP API names otherwise (PATCH /brains/{b}/memories/{id})
EDIT_FIELDS: Final = {"memory_type": "type", "expires_in_days": "expires_days"}
P = ParamSpec("P")
R = TypeVar("R")


def replica_home(url: str) -> Path:
    """Where the replicas of the server at `url` live by default: one store per server."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"--remote must be an http:// or https:// URL, got {url!r}")
    where = default_location()  # a postgresql:// NMEM_HOME keeps replicas in the usual place
    home = Path("~/.neuralmemory").expanduser() if isinstance(where, str) else where
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return home / "replicas" / f"{parts.hostname}_{port}"


def connect(
    url: str,
    token: str | None,
    brain: str | None = None,
    replica: str | Path | None = None,
    *,
    source: str,
    follow: bool = False,
) -> RemoteBrain:
    """The served brain `brain` (default: the server's current one) of the server at `url`.

    `follow`: keep the replica up to date in a background thread (a long-lived process: `nmem
    mcp`); otherwise it catches up at the first read and after each write (a CLI command).
    """
    token = token or os.environ.get(TOKEN_ENV) or None
    home = replica_home(url)
    if replica is not None and is_url(replica):
        raise InputError("with --remote, --store names the local replica's directory, not a URL")
    follower = Follower(url, brain or _current(url, token), token, replica or home)
    return RemoteBrain(follower, source=source, follow=follow)


def _current(url: str, token: str | None) -> str:
    """The server's current brain (`nmem brain use` there), if this token may use it."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with client(url.rstrip("/"), headers, 30) as http:
            answer = http.get("/brains")
    except httpx.HTTPError as exc:
        raise RemoteError(0, f"cannot reach {url}: {exc}") from None
    if answer.status_code >= 400:
        raise refusal(answer.status_code, answer.content)
    brains = answer.json()["brains"]
    for entry in brains:
        if entry["current"]:
            return str(entry["name"])
    if not brains:  # a new server: its first write creates its current brain
        return DEFAULT_BRAIN
    raise NotFoundError(f"{url} has no current brain this token may use: give --brain")


def _sent_as(
    base: Callable[Concatenate[Brain, P], R],
) -> Callable[
    [Callable[[RemoteBrain, dict[str, Any]], R]], Callable[Concatenate[RemoteBrain, P], R]
]:
    """A RemoteBrain override of `base` with `base`'s own signature (not restated here): the
    decorated function gets the call's arguments by name, `base`'s defaults filled in."""
    signature = inspect.signature(base)

    def override(
        send: Callable[[RemoteBrain, dict[str, Any]], R],
    ) -> Callable[Concatenate[RemoteBrain, P], R]:
        def method(self: RemoteBrain, /, *args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            return send(self, dict(list(bound.arguments.items())[1:]))  # all but self

        functools.update_wrapper(method, base)  # its name, docstring and signature
        return method

    return override


class RemoteBrain(Brain):
    """A served brain: reads from the follower's replica, writes on the server."""

    def __init__(self, follower: Follower, *, source: str, follow: bool) -> None:
        local = follower.local
        super().__init__(follower.store, local.id, local.name)
        self._lock = local._lock  # one projection (the replica's) for reads and replaying
        self.follower = follower
        self.source = source
        self._follow = follow
        self._attached = False

    # -- reads: the replica's projection, caught up with the server first ------------------------

    def _refreshed(self) -> Projection:
        if not self._attached:
            self._attach()
        return self.follower.local._refreshed()

    def _attach(self) -> None:
        self.follower.sync()
        if self._follow:
            self.follower.start()
        self._attached = True

    def recall(self, query: str, *, reinforce: bool = True, **options: Any) -> RecallResult:
        """Recall on the replica; nothing is reinforced (see the module's docstring)."""
        return super().recall(query, reinforce=False, **options)

    def _settle(self, *, force: bool = False) -> None:
        """Nothing to settle: a replica records no reinforcement."""

    def _write(self, decide: Any, *, room: int = 0) -> NoReturn:
        raise InputError(
            f"brain {self.name!r} is served by {self.follower.url}: this change is not offered "
            "to --remote clients; make it where the store is"
        )

    # -- writes: on the server, returned once the replica holds them -------------------------------

    def _call(self, method: str, path: str, body: Any = None, seq: int | None = None) -> Any:
        answer = self.follower.call(method, path, body)
        if seq is None and isinstance(answer, dict) and isinstance(answer.get("seq"), int):
            seq = answer["seq"]
        self._acknowledged(seq)
        return answer

    def _acknowledged(self, seq: int | None) -> None:
        """Return once the replica holds event `seq` (None: the server's head now)."""
        if not self._attached:
            self._attach()  # its sync reaches the server's head, past this write
        else:
            self.follower.catch_up(seq)

    def remember_many(self, items: Iterable[MemoryInput]) -> list[Remembered]:
        fields = [self._fields(item) for item in items]
        if not fields:
            return []
        answers = self.follower.call("POST", "memories", fields)
        self._acknowledged(max(int(a["seq"]) for a in answers))
        return [_remembered(a) for a in answers]

    def _fields(self, item: MemoryInput) -> dict[str, Any]:
        if item.id is not None:
            raise InputError("a memory id of one's own (imports) cannot be sent to a server")
        kind = item.memory_type
        out: dict[str, Any] = {
            "text": item.text,
            "priority": item.priority,
            "tags": list(item.tags),
            "source": self.source if item.source == "api" else item.source,
            "type": kind.value if isinstance(kind, MemoryType) else kind,
            "time": None if item.event_time is None else item.event_time.isoformat(),
            "expires_days": item.expires_in_days,
            "project": item.project,
            "cid": item.cid,
            "sensitive": item.sensitive,
            "meta": dict(item.meta) or None,
        }
        if item.expires_at is not None:
            at = item.expires_at
            out["expires_at"] = at if isinstance(at, str) else at.isoformat()
        return {k: v for k, v in out.items() if v is not None}

    @_sent_as(Brain.edit)
    def edit(self, args: dict[str, Any]) -> Changed:
        memory_id, project = args.pop("memory_id"), args.pop("project")
        if args.pop("cid") is not None:
            raise InputError("an idempotency key on an edit cannot be sent to a server")
        body = {EDIT_FIELDS.get(k, k): v for k, v in args.items() if v is not None}
        if project is not False:
            body["project"] = project or None
        return _changed(self._call("PATCH", _memory(memory_id), body))

    def pin(self, memory_id: str) -> Changed:
        return _changed(self._call("POST", _memory(memory_id, "pin")))

    def unpin(self, memory_id: str) -> Changed:
        return _changed(self._call("POST", _memory(memory_id, "unpin")))

    def restore(self, memory_id: str) -> Changed:
        return _changed(self._call("POST", _memory(memory_id, "restore")))

    def forget(self, memory_id: str, *, reason: str = "", hard: bool = False) -> Changed:
        if hard:
            return self.erase(memory_id)
        return _changed(self._call("POST", _memory(memory_id, "forget"), {"reason": reason}))

    def erase(self, memory_id: str, *, by: str = "user") -> Changed:
        return _changed(self._call("DELETE", _memory(memory_id)))

    def decay(self) -> dict[str, Any]:
        done: dict[str, Any] = self._call("POST", "decay")
        return done

    def cleanup(self, *, dry_run: bool = False) -> list[str]:
        answer = self._call("POST", "cleanup", {"dry_run": dry_run})
        return [str(i) for i in answer["expired"]]

    @_sent_as(Brain.create_project)
    def create_project(self, args: dict[str, Any]) -> ev.Project:
        body = {k: v for k, v in args.items() if v is not None}  # named as the API names them
        return self._project(self._call("POST", "projects", body)["id"])

    def extend_project(self, name: str, days: float) -> ev.Project:
        answer = self._call("POST", f"projects/{quote(name, safe='')}/extend", {"days": days})
        return self._project(answer["id"])

    def delete_project(self, name: str) -> ev.Project:
        with self._lock:
            p = self._refreshed()
            found = p.project_by_name(name, p.seq)
        self._call("DELETE", f"projects/{quote(name, safe='')}")
        if found is None:  # the server had it, the replica not yet: it has it now
            raise NotFoundError(f"no project named {name!r} in brain {self.name!r}")
        return found

    def _project(self, project_id: str) -> ev.Project:
        with self._lock:
            p = self._refreshed()
            found = p.project_at(project_id, p.seq)
        assert found is not None, "the replica holds the server's write"
        return found

    @_sent_as(Brain.semantic_enable)
    def semantic_enable(self, args: dict[str, Any]) -> dict[str, Any]:
        done: dict[str, Any] = self._call("POST", "semantic/enable", {"model": args["model"]})
        return done

    def semantic_rebuild(self, *, progress: Progress | None = None) -> dict[str, Any]:
        done: dict[str, Any] = self._call("POST", "semantic/rebuild")
        return done

    def semantic_disable(self) -> dict[str, Any]:
        done: dict[str, Any] = self._call("POST", "semantic/disable")
        return done

    def configure(self, **changes: Any) -> ev.BrainConfig:
        self._call("PATCH", "config", changes)
        return self.config

    # -- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        self.follower.close()

    def __enter__(self) -> RemoteBrain:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _memory(memory_id: str, action: str = "") -> str:
    path = f"memories/{quote(memory_id, safe='')}"
    return f"{path}/{action}" if action else path


def _remembered(d: dict[str, Any]) -> Remembered:
    expires = None if d["expires_at"] is None else datetime.fromisoformat(d["expires_at"])
    return Remembered(
        id=d["id"], seq=d["seq"], memory_type=MemoryType(d["memory_type"]),
        priority=d["priority"], expires_at=expires,
        neurons_created=d["neurons_created"], neurons_linked=d["neurons_linked"],
        synapses_created=d["synapses_created"], duplicate=d["duplicate"],
    )  # fmt: skip


def _changed(d: dict[str, Any]) -> Changed:
    steps = tuple((int(e["seq"]), str(e["event"])) for e in d.get("events", ()))
    return Changed(d["id"], d["seq"], d["event"], d["duplicate"], steps)
