"""The one publishing pipeline: every writing surface (thread posts, reflections, reflection replies, room
messages) configures a `Surface` and runs the same steps, in this order:

1. strict field parsing: `check_body` (and the surface's own fields, parsed with platform.web.forms);
2. the not-silenced check (`require_not_silenced`); the surface checks it may post at all (its access rules);
3. the rate limit (the surface's rule, handed in as `rate`);
4. screening: crisis language and likely patient identifiers (identifiers wait for the writer's confirmation);
5. watched words: a block refuses, an approval word holds the piece for a moderator (or refuses it where
   nothing can wait, as in a live room), a flag opens a review item;
6. the insert: the surface's own rows;
7. follow-ups in the same transaction (`follow_up`: review items for crisis, identifiers and watched words);
   notifications and fan-out are the surface's, also before commit; pg_notify is delivered on commit.

Private writing (a journal entry) is screened only to show the writer resources: no identifiers check, no
watched words, nothing reported, and a silenced member may still write it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.drafts import store as drafts
from community.platform.drafts.store import DraftKey
from community.platform.errors import Forbidden, Invalid
from community.platform.review import approval, watched
from community.platform.review import items as review
from community.platform.safety import screening
from community.platform.text import plain_text
from community.platform.viewer import Viewer

Rate = Callable[[], Awaitable[None]]
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")


@dataclass(frozen=True)
class Surface:
    """What a writing surface tells the pipeline about itself."""

    kind: str                     # its review-target kind: "post", "reflection", "reflection_reply", "room_message"
    body_max: int                 # characters
    empty_message: str            # the body field's message when there is nothing to publish
    too_long_hint: str = ""       # appended to the too-long message (e.g. "Your text is kept below.")
    field: str | None = "body"    # the form field messages attach to (None: a live message has no form)
    needs_readable_text: bool = False  # refuse Markdown that renders to nothing (only punctuation, only markup)
    can_hold: bool = True         # False: nothing can wait for a moderator (a live message is refused instead)
    hold_refusal: str = ""        # the message when an approval word meets a surface that cannot hold
    confirm_field: str | None = "body"  # where "please confirm these are not identifiers" is shown


STRONG_IDENTIFIERS = ("An MRN, Social Security number, phone number, email address or full date of birth is "
                      "highlighted. It cannot be published on your confirmation alone: please remove it, or "
                      "confirm and your writing will wait, hidden, until a moderator approves it.")
STRONG_REFUSAL = ("An MRN, Social Security number, phone number, email address or full date of birth cannot be "
                  "sent in a live message. Please remove it.")


class NeedsConfirmation(Invalid):
    """The writing has likely patient identifiers: the composer is shown again with them highlighted."""

    def __init__(self, screened: screening.Screening, field: str | None = "body") -> None:
        strong = bool(screened.strong_findings)
        super().__init__(STRONG_IDENTIFIERS if strong else
                         "Some words look like they could identify a patient. They are highlighted below. "
                         "Please change them, or confirm that they are not patient identifiers.",
                         fields={field: "Please remove the highlighted identifiers, or confirm to send the piece "
                                        "to a moderator." if strong else
                                        "Please confirm that the highlighted words are not patient identifiers, "
                                        "or change them."} if field else None)
        self.screening = screened


@dataclass
class Checked:
    """What steps 2-5 found, for the insert and the follow-ups."""

    screening: screening.Screening
    watched: watched.WatchedResult | None  # None for private writing, or text others have already read
    held: bool                             # waits for a moderator's approval (hidden or pending)
    shared: bool
    # Strong identifiers (MRN, SSN, phone, email, full date of birth) the writer confirmed: the piece waits,
    # hidden, for a moderator's approval whatever else holds it (held is then True too).
    identifiers_held: bool = False
    # One of a new member's first pieces (review.approval): it waits for a moderator (held is then True too).
    new_member: bool = False

    @property
    def crisis(self) -> bool:
        return self.screening.crisis_fired


def _refuse(surface: Surface, message: str) -> Invalid:
    return Invalid(fields={surface.field: message}) if surface.field else Invalid(message)


def check_body(surface: Surface, value: str) -> str:
    """Step 1 for the body: line endings normalised and NUL bytes dropped; blank lines before and whitespace
    after the text go (the first line's indentation stays: in Markdown it is a code block); not empty, not too
    long, and (where the surface asks) not Markdown that renders to no readable text."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    value = _LEADING_BLANK_LINES.sub("", value).rstrip()
    if not value.strip():
        raise _refuse(surface, surface.empty_message)
    if len(value) > surface.body_max:
        hint = f" {surface.too_long_hint}" if surface.too_long_hint else ""
        raise _refuse(surface, f"Use at most {surface.body_max:,} characters (this has {len(value):,}).{hint}")
    if surface.needs_readable_text and not plain_text(value).strip():
        raise _refuse(surface, "This has no readable text. Please write a few words.")
    return value


def silenced_message(viewer: Viewer) -> str:
    until = viewer.silenced_until
    when = f" until {until:%d %B %Y, %H:%M} UTC" if until else ""
    return (f"A moderator has paused your posting{when}. You can still read everything, and write privately in "
            "your journal. If you think this is a mistake, or want to talk it over, answer the moderator: their "
            "message is in your notifications and opens a private conversation you can reply to.")


def require_not_silenced(viewer: Viewer, at: datetime | None = None) -> None:
    """Step 2: the one not-silenced check, with one wording, for every surface others read."""
    if viewer.is_silenced(at):
        raise Forbidden(silenced_message(viewer))


async def check(session: AsyncSession, surface: Surface, viewer: Viewer, text: str, *, confirmed: bool,
                rate: Rate | None = None, shared: bool = True, watch: bool = True,
                at: datetime | None = None, anonymous: bool = False, new_piece: int | None = None) -> Checked:
    """Steps 2 to 5 for `text` (the body, with the title where there is one). `watch=False` skips the watched
    words for wording others have already read (an edit that changes nothing). `anonymous`: the piece is shown
    without its writer, so nothing in what happens to it may depend on who the writer is (their role).
    `new_piece`: a new shared piece (not an edit) on a surface that can wait, with the settings' default of the
    new-member rule (review.approval decides, from the admin's setting)."""
    if shared:
        require_not_silenced(viewer, at)
    if rate is not None:
        await rate()
    screened = await screening.screen_async(text, check_identifiers=shared)
    if shared and screened.needs_confirmation(confirmed):
        raise NeedsConfirmation(screened, surface.confirm_field)
    strong = shared and bool(screened.strong_findings)
    if strong and not surface.can_hold:
        raise _refuse(surface, STRONG_REFUSAL)
    new_member, entries = False, None
    if shared and new_piece is not None and surface.can_hold:  # the watched words come in the same statement
        new_member, entries = await approval.counted_new_member(session, viewer, new_piece, anonymous=anonymous)
    listed = await watched.watch_before(session, text, entries=entries) if shared and watch else None
    held = listed is not None and listed.holds(viewer, anonymous=anonymous)
    if listed is not None and listed.require_approval and not surface.can_hold:
        raise _refuse(surface, surface.hold_refusal)  # moderators' own live messages included: nothing waits
    return Checked(screened, listed, (held or strong or new_member) and surface.can_hold, shared,
                   identifiers_held=strong, new_member=new_member)


async def follow_up(session: AsyncSession, surface: Surface, checked: Checked, target_id: int, *,
                    record_screening: bool = True, draft: DraftKey | None = None) -> None:
    """Step 7: the writer's draft of the piece is gone (in the transaction that published it, so a published
    piece never comes back as a draft); what moderators must see about it (crisis, identifiers, watched words)."""
    if draft is not None:
        await drafts.discard(session, draft)
    if not checked.shared:
        return
    if record_screening:
        await screening.record_shared(session, checked.screening, target_kind=surface.kind, target_id=target_id)
    if checked.identifiers_held and checked.held:  # hidden until a moderator approves (threads open their own)
        await review.open_item(session, target_kind=surface.kind, target_id=target_id, reason="approval",
                               source="phi")
    elif checked.new_member and checked.held:
        await review.open_item(session, target_kind=surface.kind, target_id=target_id, reason="approval",
                               source="approval")
    if checked.watched is not None:
        await watched.watch_after(session, checked.watched, target_kind=surface.kind, target_id=target_id,
                                  held=checked.held)
