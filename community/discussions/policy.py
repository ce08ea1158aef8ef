"""The discussions pillar's rules in one place: its writing surface, and who may see a thread or a post.

The visibility rule is written once, here, and used both in SQL (`thread_visible_sql`) and in Python
(`visible_to`): everyone sees visible writing, moderators see everything, and an author still sees their own
hidden or pending writing, never what a moderator removed.
"""

from __future__ import annotations

from community.platform.publishing import Surface
from community.platform.states import State
from community.platform.viewer import Viewer

BODY_MAX = 20_000

SURFACE = Surface(kind="post", body_max=BODY_MAX, empty_message="Please write something before posting.",
                  needs_readable_text=True)


def visible_to(viewer: Viewer, state: str, author_id: int | None) -> bool:
    return state == State.VISIBLE or viewer.is_moderator or (author_id == viewer.id and state != State.REMOVED)


def thread_visible_sql(alias: str, viewer_param: str, moderator_param: str) -> str:
    """The same rule as `visible_to`, for the row `alias` in raw SQL whose viewer id and is-moderator flag are
    the numbered parameters given (e.g. "$1", "$3")."""
    return (f"({alias}.state = '{State.VISIBLE}' OR {moderator_param}::boolean "
            f"OR ({alias}.author_id = {viewer_param}::bigint AND {alias}.state <> '{State.REMOVED}'))")
