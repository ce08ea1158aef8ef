"""The states writing can be in, and the decisions moderators take, as enums (each value is its stored text)."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """A piece of writing others may read: thread posts, shared reflections, replies."""

    VISIBLE = "visible"
    HIDDEN = "hidden"      # by a moderator, by flags, or held for approval (reflections and replies)
    REMOVED = "removed"
    PENDING = "pending"    # thread posts waiting for a moderator's approval


class Visibility(StrEnum):
    """Who may read a reflection."""

    PRIVATE = "private"
    ANONYMOUS = "anonymous"
    NAMED = "named"


class Decision(StrEnum):
    """What a moderator can decide about a piece of writing (and, for thread posts, its thread)."""

    KEEP = "keep"
    CHECK_IN = "check_in"
    APPROVE = "approve"
    HIDE = "hide"
    REMOVE = "remove"
    RESTORE = "restore"
    WARN = "warn"
    SILENCE = "silence"
    SUSPEND = "suspend"
    EDIT = "edit"
    LOCK = "lock"
    UNLOCK = "unlock"
    PIN = "pin"
    UNPIN = "unpin"
    MOVE = "move"


STATE_CHECK_SQL = "state IN (" + ",".join(f"'{s.value}'" for s in State) + ")"
