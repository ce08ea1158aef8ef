"""The reflections pillar's rules in one place: its writing surfaces, and who may see a piece."""

from __future__ import annotations

from community.platform.publishing import Surface
from community.reflections.models import BODY_MAX, REPLY_MAX

_EMPTY = "Please write something first; even a sentence is enough."
_KEPT = "Your text is kept below."

REFLECTION = Surface(kind="reflection", body_max=BODY_MAX, empty_message=_EMPTY, too_long_hint=_KEPT,
                     confirm_field="confirm_phi")
REPLY = Surface(kind="reflection_reply", body_max=REPLY_MAX, empty_message=_EMPTY, too_long_hint=_KEPT,
                confirm_field="confirm_phi")
