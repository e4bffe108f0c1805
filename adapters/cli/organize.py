"""Brains and projects: `nmem brain ...`, `nmem project ...`."""

from __future__ import annotations

import argparse
from typing import Any

from .base import EXIT_OK, Commands, UsageError, brain_session, open_store, unknown_brain


def register(command: Commands) -> None:
    brain = command.group("brain", "Brains of the store: list, create, use, delete, config.")
    brain("list", "List the store's brains (* marks the current one).", cmd_brain_list,
          "example: nmem brain list")  # fmt: skip
    p = brain("create", "Create a brain.", cmd_brain_create, "example: nmem brain create work")
    p.add_argument("name")
    p.add_argument("--use", action="store_true", help="make it the current brain")
    p = brain("use", "Make a brain the current one.", cmd_brain_use, "example: nmem brain use work")
    p.add_argument("name")
    p = brain("delete", "Delete a brain and its whole history.", cmd_brain_delete,
              "example: nmem brain delete scratch --force")  # fmt: skip
    p.add_argument("name")
    p.add_argument("--force", "-f", action="store_true", help="required: this cannot be undone")
    p = brain("config", "Show the brain's settings, or change some (as an event).",
              cmd_brain_config, "example: nmem brain config sensitive_policy=redact")  # fmt: skip
    p.add_argument("settings", nargs="*", metavar="KEY=VALUE")

    project = command.group("project", "Projects: named time windows memories belong to.")
    p = project("create", "Create a project.", cmd_project_create,
                'example: nmem project create "Payments Q4" --duration 90 -t billing')  # fmt: skip
    p.add_argument("name")
    p.add_argument("--description", "-d", default="")
    p.add_argument("--duration", "-D", type=float, metavar="DAYS", help="default: ongoing")
    p.add_argument("--tag", "-t", action="append", default=[])
    p.add_argument("--priority", "-p", type=float, default=1.0)
    p = project("list", "List projects.", cmd_project_list, "example: nmem project list --active")
    p.add_argument("--active", "-a", action="store_true", help="only active projects")
    p = project("show", "Show a project and its memories.", cmd_project_show,
                'example: nmem project show "Payments Q4"')  # fmt: skip
    p.add_argument("name")
    p = project("extend", "Move a project's end later.", cmd_project_extend,
                'example: nmem project extend "Payments Q4" 14')  # fmt: skip
    p.add_argument("name")
    p.add_argument("days", type=float)
    p = project("delete", "Delete a project (its memories stay).", cmd_project_delete,
                'example: nmem project delete "Payments Q4"')  # fmt: skip
    p.add_argument("name")


def cmd_brain_list(args: argparse.Namespace) -> int:
    from engine import NotFoundError

    from .output import emit_json, say

    try:
        with open_store(args) as store:
            names, current = sorted(store.brain_names()), store.current
    except NotFoundError:  # no store yet: no brains, and nothing created to say so
        names, current = [], "default"
    if args.json:
        emit_json({"brains": names, "current": current})
    elif not names:
        say(f"No brains yet ('nmem remember' starts brain {current!r}).")
    for name in [] if args.json else names:
        say(("* " if name == current else "  ") + name)
    return EXIT_OK


def cmd_brain_create(args: argparse.Namespace) -> int:
    from .output import emit_json, say

    with open_store(args, create=True) as store:
        store.create_brain(args.name)
        if args.use:
            store.use(args.name)
    if args.json:
        emit_json({"created": args.name, "current": args.use})
    else:
        say(f"Created brain {args.name!r}" + (" (now current)" if args.use else ""))
    return EXIT_OK


def cmd_brain_use(args: argparse.Namespace) -> int:
    from .output import emit_json, say

    with open_store(args) as store:
        _known(store, args.name)
        store.use(args.name)
    if args.json:
        emit_json({"current": args.name})
    else:
        say(f"Current brain: {args.name!r}")
    return EXIT_OK


def cmd_brain_delete(args: argparse.Namespace) -> int:
    from .output import emit_json, say

    if not args.force:
        raise UsageError(f"deleting brain {args.name!r} cannot be undone: add --force")
    with open_store(args) as store:
        _known(store, args.name)
        store.delete_brain(args.name)
    if args.json:
        emit_json({"deleted": args.name})
    else:
        say(f"Deleted brain {args.name!r} (run 'nmem compact' to reclaim its space)")
    return EXIT_OK


def _known(store: Any, name: str) -> None:
    names = sorted(store.brain_names())
    if name not in names:
        raise unknown_brain(name, names, store.location)


def cmd_brain_config(args: argparse.Namespace) -> int:
    import msgspec

    from .output import emit_json, say, table

    changes: dict[str, Any] = {}
    for item in args.settings:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UsageError(f"settings are KEY=VALUE, got {item!r}")
        changes[key] = _value(raw)
    with brain_session(args) as brain:
        config = brain.configure(**changes) if changes else brain.config
    data = msgspec.structs.asdict(config)
    if args.json:
        emit_json(data)
    else:
        say(table([(k, str(v)) for k, v in data.items()]))
    return EXIT_OK


def _value(raw: str) -> Any:
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def _describe(project: Any) -> str:
    from engine.clock import from_us, now_us

    if project.end is None:
        return "ongoing"
    left = (project.end - now_us()) / 86_400e6
    ended = from_us(project.end).date()
    return f"ends {ended} ({left:.0f} days left)" if left > 0 else f"ended {ended}"


def cmd_project_create(args: argparse.Namespace) -> int:
    from engine.api import project_dict

    from .output import emit_json, say

    with brain_session(args, create=True) as brain:
        project = brain.create_project(
            args.name, description=args.description, duration_days=args.duration,
            tags=args.tag, priority=args.priority,
        )  # fmt: skip
    if args.json:
        emit_json(project_dict(project))
    else:
        say(f"Created project {project.name!r}: {_describe(project)}")
    return EXIT_OK


def cmd_project_list(args: argparse.Namespace) -> int:
    from engine.api import project_dict
    from engine.clock import now_us

    from .output import emit_json, say

    with brain_session(args) as brain:
        projects = brain.projects()
        counts = {p.name: len(brain.memories(project=p.name, limit=10**9)) for p in projects}
    now = now_us()
    if args.active:
        projects = [p for p in projects if p.start <= now and (p.end is None or p.end > now)]
    if args.json:
        emit_json({"projects": [project_dict(p, counts[p.name]) for p in projects]})
    else:
        for p in projects:
            state = "ACTIVE" if p.end is None or p.end > now else "ENDED"
            say(f"[{state}] {p.name}: {counts[p.name]} memories | {_describe(p)}"
                + (f" | {', '.join(p.tags)}" if p.tags else ""))  # fmt: skip
    return EXIT_OK


def cmd_project_show(args: argparse.Namespace) -> int:
    from engine.api import project_dict

    from .output import emit_json, memory_line, say

    with brain_session(args) as brain:
        memories = brain.memories(project=args.name, limit=10**9)
        project = next(p for p in brain.projects() if p.name.lower() == args.name.lower())
    if args.json:
        emit_json({**project_dict(project, len(memories)),
                   "recent": [m.to_dict() for m in memories[:5]]})  # fmt: skip
        return EXIT_OK
    say(f"{project.name}: {_describe(project)}; {len(memories)} memories")
    if project.description:
        say(project.description)
    by_type: dict[str, int] = {}
    for m in memories:
        by_type[m.memory_type.value] = by_type.get(m.memory_type.value, 0) + 1
    say(", ".join(f"{k} {v}" for k, v in sorted(by_type.items())) or "no memories yet")
    for m in sorted(memories, key=lambda m: m.recorded_at, reverse=True)[:5]:
        say("  " + memory_line(m))
    return EXIT_OK


def cmd_project_extend(args: argparse.Namespace) -> int:
    from engine.api import project_dict

    from .output import emit_json, say

    with brain_session(args) as brain:
        project = brain.extend_project(args.name, args.days)
    if args.json:
        emit_json(project_dict(project))
    else:
        say(f"Extended {project.name!r}: {_describe(project)}")
    return EXIT_OK


def cmd_project_delete(args: argparse.Namespace) -> int:
    from .output import emit_json, say

    with brain_session(args) as brain:
        project = brain.delete_project(args.name)
    if args.json:
        emit_json({"deleted": project.name})
    else:
        say(f"Deleted project {project.name!r}; its memories stay")
    return EXIT_OK
