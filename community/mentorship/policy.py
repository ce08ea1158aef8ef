"""The mentorship pillar's rules: its writing surface (messages of a mentor conversation) and its limits."""

from __future__ import annotations

from community.platform.publishing import Surface

MESSAGE_MAX = 4000
MESSAGE = Surface(kind="mentor_message", body_max=MESSAGE_MAX,
                  empty_message=f"Messages are 1 to {MESSAGE_MAX:,} characters.", needs_readable_text=True,
                  too_long_hint="Your text is kept below.")
MESSAGES_PER_MINUTE = 6
# Open or pending conversation requests a member may have at once: this is not open messaging.
MAX_OPEN_REQUESTS = 3
