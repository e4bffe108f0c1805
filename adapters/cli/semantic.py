"""`nmem semantic`: the optional semantic layer of a brain (local embeddings, no network)."""

from __future__ import annotations

import argparse
from typing import Any

from .base import EXIT_OK, Commands, add_at, brain_session, view_of


def register(command: Commands) -> None:
    group = command.group(
        "semantic",
        "The semantic layer: memories found by meaning as well as by words (local embeddings; "
        "install the extra: pip install 'neuralmemory[semantic]').",
    )
    p = group(
        "enable",
        "Turn the layer on (an event: replay and past views follow it) and embed every memory "
        "that has no vector yet.",
        cmd_enable,
        "example: nmem semantic enable   (or --model ID to switch models)",
    )
    p.add_argument("--model", metavar="ID", help="embedding model (default: the shipped one)")
    group(
        "rebuild",
        "Embed every memory again with the brain's model.",
        cmd_rebuild,
        "example: nmem semantic rebuild",
    )
    group(
        "disable",
        "Turn the layer off from now on (past views keep it; enable brings it back).",
        cmd_disable,
        "example: nmem semantic disable",
    )
    p = group(
        "status",
        "The brain's embedding model, how many memories have a vector, and whether this "
        "installation can load the model.",
        cmd_status,
        "example: nmem semantic status --json",
    )
    add_at(p)


def _progress() -> Any:
    from .progress import Progress

    return Progress("embedding memories")


def cmd_enable(args: argparse.Namespace) -> int:
    from engine.semantic.registry import DEFAULT_MODEL

    with brain_session(args) as brain, _progress() as bar:
        done = brain.semantic_enable(args.model or DEFAULT_MODEL, progress=bar.update)
    return _report(args, done, "enabled" if done["switched"] else "already enabled")


def cmd_rebuild(args: argparse.Namespace) -> int:
    with brain_session(args) as brain, _progress() as bar:
        done = brain.semantic_rebuild(progress=bar.update)
    return _report(args, done, "rebuilt")


def cmd_disable(args: argparse.Namespace) -> int:
    with brain_session(args) as brain:
        done = brain.semantic_disable()
    return _report(args, done, "disabled" if done["switched"] else "already off")


def cmd_status(args: argparse.Namespace) -> int:
    with brain_session(args) as brain:
        status = view_of(brain, args.at).semantic()
    return _report(args, status, "")


def _report(args: argparse.Namespace, status: dict[str, Any], what: str) -> int:
    from .output import emit_json, say, table

    if args.json:
        emit_json(status)
        return EXIT_OK
    if what:
        say(f"semantic layer {what}" + (f": embedded {status['embedded_now']} memories"
                                        if status.get("embedded_now") else ""))  # fmt: skip
    if not status["model"]:
        say(f"brain {status['brain']}: no semantic layer ('nmem semantic enable' turns it on)")
        return EXIT_OK
    rows = [
        ("brain", status["brain"]),
        ("model", f"{status['model']} ({status['dims']} dims)"),
        ("memories with a vector", f"{status['embedded']} of {status['memories']}"),
        ("vectors", f"{status['vector_bytes'] / 2**20:.1f} MiB"),
        (
            "loads here",
            "yes"
            if status["available"]
            else "no: recall is lexical; pip install 'neuralmemory[semantic]'",
        ),
    ]
    say(table(rows))
    return EXIT_OK
