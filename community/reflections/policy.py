"""The reflections pillar's rules in one place: its writing surfaces, and who may see a piece.

Who may see a reflection, written once (`others_may_see` in Python, `others_may_see_sql` in SQL): its writer
always; anyone else only a shared piece (anonymous or named), and only while it is visible, unless they are a
moderator. Private writing does not exist for anyone but its writer, moderators included.

A piece ever shown under its writer's name never becomes anonymous (`may_become_anonymous`): its readers already
know who wrote it.
"""

from __future__ import annotations

from community.platform.publishing import Surface
from community.platform.states import State, Visibility
from community.reflections.models import BODY_MAX, REPLY_MAX, Reflection

_EMPTY = "Please write something first; even a sentence is enough."
_KEPT = "Your text is kept below."

REFLECTION = Surface(kind="reflection", body_max=BODY_MAX, empty_message=_EMPTY, too_long_hint=_KEPT,
                     confirm_field="confirm_phi")
REPLY = Surface(kind="reflection_reply", body_max=REPLY_MAX, empty_message=_EMPTY, too_long_hint=_KEPT,
                confirm_field="confirm_phi")


def others_may_see(visibility: str, state: str, *, moderator: bool) -> bool:
    """Whether someone other than the writer may see a piece (the writer always may)."""
    return visibility != Visibility.PRIVATE and (state == State.VISIBLE or moderator)


def others_may_see_sql(alias: str, moderator: str = "false") -> str:
    """`others_may_see` for the row `alias`; `moderator` is an SQL boolean (a literal or a parameter)."""
    return (f"({alias}.visibility <> '{Visibility.PRIVATE}' "
            f"AND ({alias}.state = '{State.VISIBLE}' OR {moderator}))")


NAMED_STAYS_NAMED = ("This piece has been shown under your name, so the people who read it already know you "
                     "wrote it: making it anonymous now would not hide that. You can make it private, or delete "
                     "it.")


def may_become_anonymous(reflection: Reflection) -> bool:
    """Whether the writer may make this piece anonymous (an anonymous piece stays so when edited)."""
    return reflection.visibility == Visibility.ANONYMOUS or not reflection.shown_named
