"""The rooms pillar's rules in one place: its writing surface (live messages) and its posting limit."""

from __future__ import annotations

from community.platform.publishing import Surface
from community.rooms.protocol import MAX_MESSAGE_CHARS

NEEDS_APPROVAL_MESSAGE = ("This message contains wording that needs a moderator's approval, so it can't be sent "
                          "in a live room. Please rephrase it.")

# A live message has no form field, and nothing can wait for a moderator: an approval word refuses it.
MESSAGE = Surface(kind="room_message", body_max=MAX_MESSAGE_CHARS,
                  empty_message=f"Messages are 1 to {MAX_MESSAGE_CHARS:,} characters.", field=None,
                  can_hold=False, hold_refusal=NEEDS_APPROVAL_MESSAGE, confirm_field=None)

# Messages a participant may send a minute (ROOM_MESSAGES_PER_MINUTE; its default). Slow mode, a room's own
# choice, applies on top; moderators are not limited, as on every surface.
MESSAGES_PER_MINUTE = 30
