"""The original's session tools: nmem_session (the task at hand), nmem_eternal (project
context that lasts), nmem_recap and nmem_situation (loading both back), nmem_auto (capturing
memories from a text).

All of it is memories, as in the original: the session state is a context memory tagged
`session_state` (its fields in the memory's meta, expiring after a day), a finished session
leaves a `session_summary`, project context is a fact tagged `project_context` and `eternal`.
So every session step is in the brain's history and `at` reads it as it stood."""

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from ..describe import preview
from .args import AsOf, When
from .server import READ, SOURCE, WRITE, Answer, Engine, Spec, moment

if TYPE_CHECKING:
    from engine import Brain, BrainView, Memory

SESSION_TAG = "session_state"
SUMMARY_TAG = "session_summary"
PROJECT_TAG = "project_context"
ETERNAL_TAG = "eternal"
BLOCKER_TAG = "blocker"
SESSION_DAYS = 1.0
SUMMARY_DAYS = 7.0
MANY = 1000  # typed memories looked at to pick the newest few

Text = Annotated[str | None, Field(max_length=10_000)]


def specs(engine: Engine) -> list[Spec]:
    async def nmem_session(
        action: Annotated[
            Literal["get", "set", "end"],
            Field(
                description="get: the current session; set: update it (only the fields "
                "given change); end: close it, leaving a summary memory."
            ),
        ] = "get",
        feature: Annotated[Text, Field(description="The feature being worked on.")] = None,
        task: Annotated[Text, Field(description="The task at hand.")] = None,
        progress: Annotated[
            float | None, Field(ge=0, le=1, description="Progress 0.0 to 1.0.")
        ] = None,
        notes: Annotated[Text, Field(description="Anything else worth knowing.")] = None,
    ) -> Answer:
        fields = {"feature": feature, "task": task, "progress": progress, "notes": notes}
        given = {k: v for k, v in fields.items() if v is not None}
        if action != "set" and given:
            raise ToolError(f"nmem_session: {', '.join(given)} go with action 'set'")

        def work(brain: "Brain") -> Answer:
            if action == "get":
                return session_get(brain)
            if action == "set":
                return session_set(brain, given)
            return session_end(brain)

        return await engine.run(work)

    async def nmem_eternal(
        action: Annotated[
            Literal["status", "save"],
            Field(
                description="status: memory counts and the session; save: store the "
                "project context, a decision or an instruction given."
            ),
        ] = "status",
        project_name: Annotated[
            Text, Field(description="The project's name (replaces the saved project context).")
        ] = None,
        tech_stack: Annotated[
            list[Annotated[str, Field(max_length=200)]] | None,
            Field(max_length=50, description="The tech stack, e.g. ['Python', 'PostgreSQL']."),
        ] = None,
        decision: Annotated[
            Text, Field(description="A key decision (kept, never expires).")
        ] = None,
        reason: Annotated[Text, Field(description="Why that decision was taken.")] = None,
        instruction: Annotated[
            Text, Field(description="A standing instruction (kept, never expires).")
        ] = None,
    ) -> Answer:
        if reason is not None and decision is None:
            raise ToolError("nmem_eternal: reason goes with a decision")
        if action == "status":
            if any(v is not None for v in (project_name, tech_stack, decision, instruction)):
                raise ToolError("nmem_eternal: to store these, use action 'save'")
            return await engine.run(eternal_status)
        return await engine.run(
            lambda brain: eternal_save(
                brain, project_name, tech_stack, decision, reason, instruction
            )
        )

    async def nmem_recap(
        level: Annotated[
            int,
            Field(
                ge=1,
                le=3,
                description="1 quick: project, instructions, session, open "
                "errors; 2 adds decisions, todos, all instructions; 3 adds session "
                "history, recent facts, error history.",
            ),
        ] = 1,
        topic: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=1000,
                description="Add what memory knows about this topic (e.g. 'auth', 'database').",
            ),
        ] = None,
        at: When = None,
        as_of: AsOf = None,
    ) -> Answer:
        from engine.retrieval import count_tokens

        def work(v: "BrainView") -> Answer:
            lines = recap_lines(v, 1 if topic else level)
            out: Answer = {"level": 1 if topic else level}
            if topic:
                found = v.recall(topic, max_tokens=500)
                if found.context:
                    lines += ["", f"## Topic: {topic}", found.context]
                out.update(
                    topic=topic,
                    confidence=round(found.confidence, 4),
                    message=f"Recap for topic: {topic}",
                )
            context = "\n".join(lines)
            out = {
                "context": context,
                **out,
                "tokens_used": count_tokens(context),
                **moment(v),
            }
            out.setdefault("message", f"Level {level} recap loaded.")
            return out

        return await engine.read(at, as_of, work)

    async def nmem_situation(at: When = None, as_of: AsOf = None) -> Answer:
        return await engine.read(at, as_of, situation)

    async def nmem_auto(
        action: Annotated[
            Literal["status", "enable", "disable", "analyze", "process", "flush"],
            Field(
                description="status; enable/disable capture (for this server's life); "
                "analyze: find memories in `text` (save=true also stores them); process: "
                "find and store them; flush: as process, also keeping plain facts (before "
                "a context window is compacted)."
            ),
        ],
        text: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=100_000,
                description="The text to read (for "
                "analyze, process, flush), e.g. the end of a conversation.",
            ),
        ] = None,
        save: Annotated[bool, Field(description="analyze: store what was found too.")] = False,
    ) -> Answer:
        if action in ("status", "enable", "disable"):
            if text is not None:
                raise ToolError(
                    f"nmem_auto: text goes with analyze, process or flush, not {action}"
                )
            if action != "status":
                engine.auto_capture = action == "enable"
                return {
                    "enabled": engine.auto_capture,
                    "message": f"Auto-capture {action}d for this server's life",
                }
            return auto_status(engine.auto_capture)
        if text is None:
            raise ToolError(f"nmem_auto: action '{action}' needs text")
        if action == "process" and not engine.auto_capture:
            return {
                "saved": 0,
                "memories": [],
                "message": "Auto-capture is disabled; nmem_auto action 'enable' turns it on",
            }
        flush = action == "flush"
        found = detect(text, keep_facts=flush)
        if action == "analyze" and not save:
            return {
                "detected": found,
                "message": f"Detected {len(found)} potential memories (not saved)"
                if found
                else "No memorable content detected",
            }
        done = await engine.run(lambda brain: capture(brain, found, dedupe=not flush))
        if action == "analyze":
            return {"detected": found, **done}
        return done

    return [
        Spec(
            nmem_session,
            "Track the current working session: the feature, task, progress "
            "and notes (action set), read them back (get), or end the session (end: a summary "
            "memory stays for later recaps). One session at a time; for what lasts across "
            "sessions use nmem_eternal.",
            WRITE,
        ),
        Spec(
            nmem_eternal,
            "Save project context that lasts across sessions: the project's "
            "name and tech stack, key decisions (with their reason), standing instructions. "
            "nmem_recap loads it back. status shows memory counts and the session.",
            WRITE,
        ),
        Spec(
            nmem_recap,
            "Load the saved project context at the start of a session: project, "
            "instructions, current session, open errors (level 1), plus decisions and todos "
            "(2), plus session history and facts (3); or what memory knows about a topic.",
            READ,
        ),
        Spec(
            nmem_situation,
            "One-shot picture of where work stands: the session's task and "
            "feature, the 3 newest decisions, open blockers (todos tagged 'blocker'), whether "
            "the last session was left without being ended, and a suggestion. Read-only.",
            READ,
        ),
        Spec(
            nmem_auto,
            "Capture memories from a text by rules (no LLM): its sentences that "
            "read as a decision, error, todo, insight, preference, instruction or workflow "
            "('we decided ...', 'the bug was ...', 'TODO: ...'). analyze only lists them, "
            "process and flush store them (flush keeps plain facts too).",
            WRITE,
        ),
    ]


# -- session ------------------------------------------------------------------------------------


def _newest(view: "BrainView", kind: str, tag: str, status: str = "visible") -> "Memory | None":
    found = view.memories(types=[kind], tags=[tag], status=status, limit=MANY)
    return max(found, key=lambda m: m.seq, default=None)


def _session_fields(m: "Memory | None") -> dict[str, Any]:
    meta = {} if m is None else m.meta
    return {
        "feature": meta.get("feature") or "",
        "task": meta.get("task") or "",
        "progress": meta.get("progress") or 0.0,
        "started_at": meta.get("started_at") or "",
        "notes": meta.get("notes") or "",
        "branch": meta.get("branch") or "",
        "commit": meta.get("commit") or "",
        "repo": meta.get("repo") or "",
    }


def abandoned(view: "BrainView") -> bool:
    """The last session state expired without nmem_session end: it was left mid-way."""
    last = _newest(view, "context", SESSION_TAG, status="all")
    return last is not None and last.status == "expired"


def session_get(brain: "Brain") -> Answer:
    current = _newest(brain, "context", SESSION_TAG)
    if current is None:
        out: Answer = {"active": False, "message": "No active session"}
        if abandoned(brain):
            out["gap_detected"] = True
            out["gap_message"] = (
                "The last session expired without being ended; what it did "
                "may be missing: nmem_auto action 'flush' with the recent "
                "conversation captures it."
            )
        return out
    return {"active": True, **_session_fields(current), "memory_id": current.id}


def session_set(brain: "Brain", given: dict[str, Any]) -> Answer:
    from engine import MemoryInput

    current = _newest(brain, "context", SESSION_TAG)
    fields = {**_session_fields(current), **given, **git_context(Path.cwd())}
    fields["started_at"] = fields["started_at"] or brain.time.isoformat()
    parts = [
        f"working on {fields['feature']}" if fields["feature"] else "",
        f"task: {fields['task']}" if fields["task"] else "",
        f"progress {round(fields['progress'] * 100)}%",
        f"notes: {fields['notes']}" if fields["notes"] else "",
    ]
    text = "Session: " + "; ".join(p for p in parts if p)
    tags = [SESSION_TAG] + ([f"branch:{fields['branch']}"] if fields["branch"] else [])
    item = MemoryInput(
        text=text,
        memory_type="context",
        priority=7,
        tags=tags,
        expires_in_days=SESSION_DAYS,
        source=SOURCE,
        meta={**fields, "active": True},
    )
    done = brain.remember_many([item])[0]
    if current is not None:
        brain.forget(current.id, reason="session updated")
    return {"active": True, **fields, "memory_id": done.id, "message": "Session state updated"}


def session_end(brain: "Brain") -> Answer:
    from engine import MemoryInput

    current = _newest(brain, "context", SESSION_TAG)
    if current is None:
        return {"active": False, "message": "No active session to end"}
    fields = _session_fields(current)
    summary = f"Session ended: worked on {fields['feature'] or 'unknown'}"
    if fields["task"]:
        summary += f", task: {fields['task']}"
    summary += f", progress: {round(fields['progress'] * 100)}%"
    item = MemoryInput(
        text=summary,
        memory_type="context",
        priority=5,
        tags=[SUMMARY_TAG],
        expires_in_days=SUMMARY_DAYS,
        source=SOURCE,
    )
    done = brain.remember_many([item])[0]
    brain.forget(current.id, reason="session ended")
    return {
        "active": False,
        "summary": summary,
        "memory_id": done.id,
        "message": "Session ended and summary saved",
    }


def git_context(cwd: Path) -> dict[str, str]:
    """The branch and commit of the git checkout the server runs in, read from .git itself."""
    for folder in (cwd, *cwd.parents):
        git = folder / ".git"
        if git.is_file():  # a worktree: "gitdir: /path"
            pointer = git.read_text(errors="replace").partition("gitdir:")[2].strip()
            git = (folder / pointer).resolve()
        if git.is_dir():
            break
    else:
        return {}
    try:
        head = (git / "HEAD").read_text(errors="replace").strip()
    except OSError:
        return {}
    branch, commit = "", head
    if head.startswith("ref:"):
        ref = head[4:].strip()
        branch = ref.removeprefix("refs/heads/")
        commit = _ref(git, ref)
    return {"branch": branch, "commit": commit[:12], "repo": folder.name}


def _ref(git: Path, ref: str) -> str:
    common = git
    if (git / "commondir").is_file():
        common = (git / (git / "commondir").read_text().strip()).resolve()
    for base in (git, common):
        path = base / ref
        if path.is_file():
            return path.read_text(errors="replace").strip()
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(errors="replace").splitlines():
            sha, _, name = line.partition(" ")
            if name == ref:
                return sha
    return ""


# -- eternal context ----------------------------------------------------------------------------


def _kept(brain: "Brain", text: str, kind: str, priority: int, tags: list[str]) -> str:
    from engine import MemoryInput

    item: MemoryInput = MemoryInput(
        text=text, memory_type=kind, priority=priority, tags=tags, expires_at="never", source=SOURCE
    )
    return brain.remember_many([item])[0].id


def eternal_save(
    brain: "Brain",
    project_name: str | None,
    tech_stack: list[str] | None,
    decision: str | None,
    reason: str | None,
    instruction: str | None,
) -> Answer:
    ids: dict[str, str] = {}
    if project_name or tech_stack:
        parts = [
            f"Project: {project_name}" if project_name else "",
            f"Tech stack: {', '.join(tech_stack)}" if tech_stack else "",
        ]
        old = brain.memories(types=["fact"], tags=[PROJECT_TAG], limit=MANY)
        ids["project_context"] = _kept(
            brain, ". ".join(p for p in parts if p), "fact", 10, [PROJECT_TAG, ETERNAL_TAG]
        )
        for m in old:
            brain.forget(m.id, reason="project context replaced")
    if decision:
        text = f"Decision: {decision}" + (f" — Reason: {reason}" if reason else "")
        ids["decision"] = _kept(brain, text, "decision", 7, [ETERNAL_TAG])
    if instruction:
        ids["instruction"] = _kept(brain, instruction, "instruction", 9, [ETERNAL_TAG])
    items = list(ids)
    return {
        "saved": bool(items),
        "items": items,
        "fiber_ids": ids,
        "message": f"Saved {', '.join(items)}." if items else "No changes.",
    }


def eternal_status(brain: "Brain") -> Answer:
    stats = brain.stats()
    current = _newest(brain, "context", SESSION_TAG)
    session = (
        {}
        if current is None
        else {
            k: v
            for k, v in _session_fields(current).items()
            if k in ("feature", "task", "progress", "branch")
        }
    )
    return {
        "enabled": True,
        "memory_counts": stats["by_type"],
        "session": session,
        "brain": brain.name,
    }


# -- recap and situation ------------------------------------------------------------------------


def _by_newest(view: "BrainView", kind: str, count: int, **filters: Any) -> list["Memory"]:
    found = view.memories(types=[kind], limit=MANY, **filters)
    return sorted(found, key=lambda m: m.seq, reverse=True)[:count]


def recap_lines(view: "BrainView", level: int) -> list[str]:
    """The recap of a view: level 1 what to know at once, 2 and 3 more (the original's)."""
    lines = ["## Project Context"]
    project = _by_newest(view, "fact", 5, tags=[PROJECT_TAG])
    lines += [f"- {m.text}" for m in project]
    lines += [f"- {m.text}" for m in _by_newest(view, "instruction", 5, min_priority=7)]
    current = _newest(view, "context", SESSION_TAG)
    if current is not None:
        fields = _session_fields(current)
        if fields["feature"]:
            lines.append(f"- Current: {fields['feature']}")
        if fields["task"]:
            pct = round(fields["progress"] * 100)
            lines.append(f"- Task: {fields['task']}" + (f" ({pct}%)" if pct else ""))
        if fields["branch"]:
            lines.append(f"- Branch: {fields['branch']}")
    errors = _by_newest(view, "error", MANY)
    if errors:
        lines.append(f"- Active errors: {len(errors)}")
        lines += [f"  - {m.text}" for m in errors[:3]]
    if level >= 2:
        for title, kind in (
            ("Key Decisions", "decision"),
            ("Pending Tasks", "todo"),
            ("Instructions", "instruction"),
        ):
            found = _by_newest(view, kind, 5)
            if found:
                lines += ["", f"## {title}", *(f"- {m.text}" for m in found)]
    if level >= 3:
        summaries = _by_newest(view, "context", 10, tags=[SUMMARY_TAG])
        if summaries:
            lines += ["", "## Session History", *(f"- {m.text}" for m in summaries)]
        shown = {m.id for m in project}
        facts = [m for m in _by_newest(view, "fact", 10) if m.id not in shown][:5]
        if facts:
            lines += ["", "## Recent Facts", *(f"- {m.text}" for m in facts)]
        history = _by_newest(view, "error", 10, status="all")
        history = [m for m in history if m.status != "erased"]
        if history:
            lines += ["", "## Error History"]
            lines += [
                f"- [{'open' if m.status in ('active', 'pinned') else 'resolved'}] {m.text}"
                for m in history
            ]
    return lines


def situation(view: "BrainView") -> Answer:
    current = _newest(view, "context", SESSION_TAG)
    fields = _session_fields(current)
    decisions = [
        {"id": m.id, "content": m.text, "created_at": m.recorded_at.isoformat()}
        for m in _by_newest(view, "decision", 3)
    ]
    blockers = [
        {"id": m.id, "content": m.text, "tag": BLOCKER_TAG}
        for m in _by_newest(view, "todo", MANY, tags=[BLOCKER_TAG])
        if "resolved" not in m.tags
    ]
    gap = current is None and abandoned(view)
    if gap:
        suggestion = (
            "The last session was left without being ended: nmem_auto action "
            "'flush' with the recent conversation captures what it did."
        )
    elif current is None and not decisions:
        suggestion = (
            "Fresh start: nmem_session action 'set' with feature and task anchors the work."
        )
    elif blockers:
        suggestion = f"{len(blockers)} open blocker(s): review them before starting new work."
    else:
        suggestion = "Situation looks clean: continue working."
    return {
        "active_task": fields["task"] or None,
        "active_feature": fields["feature"] or None,
        "session_started_at": fields["started_at"] or None,
        "recent_decisions": decisions,
        "open_blockers": blockers,
        "files_in_session": [],
        "gap_detected": gap,
        "suggestion": suggestion,
        "seq": view.seq,
        "at": view.time.isoformat(),
    }


# -- auto-capture -------------------------------------------------------------------------------

CAPTURED = {
    "decision": 6,
    "error": 7,
    "todo": 5,
    "insight": 6,
    "preference": 5,
    "instruction": 7,
    "workflow": 5,
}
FACT_PRIORITY = 4
RULE_CONFIDENCE = 0.7  # a wording cue matched; there is no model behind it
FACT_CONFIDENCE = 0.5
MIN_WORDS = 4
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def auto_status(enabled: bool) -> Answer:
    return {
        "enabled": enabled,
        **{
            f"capture_{kind}s": True
            for kind in (
                "decision",
                "error",
                "todo",
                "insight",
                "preference",
                "instruction",
                "workflow",
            )
        },
        "capture_facts": False,
        "min_confidence": RULE_CONFIDENCE,
        "method": "rules: each sentence's wording decides its type (no LLM); flush keeps "
        "plain facts too",
    }


def detect(text: str, *, keep_facts: bool) -> list[Answer]:
    """The sentences of `text` worth remembering, typed by the engine's wording rules."""
    from engine.extraction.classify import detect_memory_type

    out: list[Answer] = []
    seen: set[str] = set()
    for raw in _SENTENCE.split(text):
        sentence = " ".join(raw.split()).strip(" -*•")
        key = sentence.casefold()
        if len(sentence.split()) < MIN_WORDS or key in seen:
            continue
        seen.add(key)
        kind = detect_memory_type(sentence).value
        if kind in CAPTURED:
            out.append(
                {
                    "type": kind,
                    "content": sentence,
                    "confidence": RULE_CONFIDENCE,
                    "priority": CAPTURED[kind],
                }
            )
        elif keep_facts and kind == "fact":
            out.append(
                {
                    "type": kind,
                    "content": sentence,
                    "confidence": FACT_CONFIDENCE,
                    "priority": FACT_PRIORITY,
                }
            )
    return out


def capture(brain: "Brain", found: list[Answer], *, dedupe: bool) -> Answer:
    """Store what `detect` found, one by one (a refused sentence does not stop the rest);
    with `dedupe`, a sentence the brain already holds word for word is skipped."""
    from engine import Error as EngineError
    from engine import MemoryInput, SensitiveContentError

    saved: list[str] = []
    ids: list[str] = []
    skipped: list[Answer] = []
    for item in found:
        text = item["content"]
        if dedupe and _held(brain, text):
            skipped.append({"content": preview(text, 80), "reason": "already remembered"})
            continue
        memory: MemoryInput = MemoryInput(
            text=text,
            memory_type=item["type"],
            priority=item["priority"],
            tags=["auto-capture"],
            source=SOURCE,
        )
        try:
            ids.append(brain.remember_many([memory])[0].id)
        except SensitiveContentError as exc:
            skipped.append({"content": "(withheld)", "reason": f"{exc.found}: not stored"})
            continue
        except EngineError as exc:
            skipped.append({"content": preview(text, 80), "reason": str(exc)})
            continue
        saved.append(text)
    out: Answer = {
        "saved": len(saved),
        "memories": saved,
        "fiber_ids": ids,
        "message": f"Auto-captured {len(saved)} memories"
        if saved
        else "No memorable content detected"
        if not found
        else "Nothing new to capture",
    }
    if skipped:
        out["skipped"] = skipped
    return out


def _held(brain: "Brain", text: str) -> bool:
    result = brain.at(brain.seq).recall(text, limit=3)  # a past view: no reinforcement
    return any(m.memory.text.casefold() == text.casefold() for m in result.memories)
