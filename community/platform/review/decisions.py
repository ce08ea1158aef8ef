"""Moderation decisions, for every kind of content, through its TargetAdapter.

A decision may come from the queue or be taken directly (no flag). Each one is written to the audit log with its
reason; the author (through the adapter: a sealed tag for anonymous writing) and the flaggers are told the
outcome. For anonymous content, the audit entry names the content, never its author.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts import actions as accounts
from community.platform.accounts import restrictions
from community.platform.accounts.actions import require_staff
from community.platform.accounts.models import User
from community.platform.errors import Forbidden, Invalid
from community.platform.notify import notifications
from community.platform.numbers import parse_int
from community.platform.review import audit, checkins
from community.platform.review.models import Sanction
from community.platform.review.queue import access_target, adapter_or_404, forget_times, resolve
from community.platform.review.targets import Review, TargetView
from community.platform.states import Decision
from community.platform.viewer import Viewer

# Decisions that close the review item (and the flags), and those that act on the content or its thread only.
RESOLVING = (Decision.KEEP, Decision.CHECK_IN, Decision.APPROVE, Decision.HIDE, Decision.REMOVE, Decision.RESTORE,
             Decision.WARN, Decision.SILENCE, Decision.SUSPEND)
LABELS = {
    "keep": "Keep (dismiss the flags)", "check_in": "Check in with the writer privately (the writing stays)",
    "approve": "Approve", "hide": "Hide", "remove": "Remove",
    "restore": "Restore", "warn": "Warn privately", "silence": "Silence", "suspend": "Suspend",
    "edit": "Edit", "lock": "Lock thread", "unlock": "Unlock thread", "pin": "Pin thread",
    "unpin": "Unpin thread", "move": "Move thread", "lift": "Lift the restriction",
}
NEEDS_REASON = (Decision.CHECK_IN, Decision.REMOVE, Decision.WARN, Decision.SILENCE, Decision.SUSPEND,
                Decision.EDIT, Decision.HIDE)
# The decisions of the review page's main form that need its Reason field, in the page's order (its label).
DECIDE_NEEDS_REASON = tuple(a for a in RESOLVING if a in NEEDS_REASON)
# The form field that carries the reason, by action: the thread tools' edit form has its own (f-edit-reason).
REASON_FIELD = {"edit": "edit-reason"}
SILENCE_HOURS = {"1": "1 hour", "24": "1 day", "72": "3 days", "168": "1 week", "720": "30 days"}
FLAGGER_OUTCOME = {
    "keep": "reviewed it and decided it can stay",
    "check_in": "reviewed it and reached out to the writer privately",
    "approve": "reviewed it and approved it",
    "hide": "hid it",
    "remove": "removed it",
    "restore": "reviewed it and decided it can stay",
    "warn": "reviewed it and contacted the writer privately",
    "silence": "reviewed it and paused the writer's posting",
    "suspend": "reviewed it and suspended the writer's account",
}
# About anonymous writing a flagger learns that a sanction was taken, not which: the sanction says something about
# the writer's account, which may help a flagger who knows of a recent silencing or suspension to name them.
ANONYMOUS_SANCTION_OUTCOME = "reviewed it and took action"
FLAGGED_KIND = {"post": "a post", "reflection": "a reflection", "reflection_reply": "a reply to a reflection",
                "room_message": "a message in a live room"}
REASON_MAX = 1000
NOTIFICATION_KIND = {"warn": "warning", "check_in": "check_in"}


@dataclass
class Decision:
    action: str
    message: str          # for the moderator's flash
    item_id: int | None
    conversation_url: str | None = None  # the private conversation the decision opened with the writer


def check_reason(action: str, reason: str) -> str | None:
    reason = reason.strip()
    field = REASON_FIELD.get(action, "reason")
    if action == "check_in" and not reason:
        raise Invalid("Please write the message you want to send to the writer.",
                      fields={field: "Please write the message you want to send."})
    if action in NEEDS_REASON and not reason:
        raise Invalid(f"A reason is required to {action}: please write it in the Reason field.",
                      fields={field: "Please give a reason: the author sees it, and it is kept in the "
                                     "audit log."})
    if len(reason) > REASON_MAX:
        raise Invalid(fields={field: f"Use at most {REASON_MAX:,} characters (this has {len(reason):,})."})
    return reason or None


async def _reachable_author(session: AsyncSession, adapter: Any, target_id: int) -> User:
    author_id = await adapter.author_user_id(session, target_id)
    user = await session.get(User, author_id) if author_id is not None else None
    if user is None or user.deleted_at is not None:
        raise Invalid("The writer's account no longer exists, so there is nobody to contact or sanction.")
    return user


async def _author_for_sanction(session: AsyncSession, viewer: Viewer, adapter: Any, target_id: int,
                               view: TargetView, action: str) -> User:
    """The member a sanction applies to. For anonymous writing no answer may depend on who the writer is (a
    refusal that named their role would say they are staff), so the rule is the same whoever wrote it: any
    moderator may warn or silence, only an admin may suspend."""
    if view.anonymous and action == "suspend" and not viewer.is_admin:
        raise Forbidden("Only an admin can suspend the writer of anonymous writing.")
    user = await _reachable_author(session, adapter, target_id)
    if user.id == viewer.id:
        raise Invalid("You cannot sanction yourself.")
    if not view.anonymous and user.role in ("moderator", "admin") and not viewer.is_admin:
        raise Forbidden("Only an admin can sanction a moderator or an admin.")
    return user


async def _suspend(case: _Case, user: User, days: int | None) -> datetime | None:
    """Suspends the writer; the end of the suspension (None: without end)."""
    if not case.view.anonymous:
        await accounts.suspend(case.session, case.viewer, user.id, case.reason or "", days)
        return user.suspended_until
    # Anonymous writing: not on the member's row, where an admin would see it, and without accounts.suspend's
    # audit entry, which would name the member. The viewer load refuses the member while it lasts.
    until = _day(accounts.now()) + timedelta(days=days + 1) if days else None
    await restrictions.impose(case.session, case.review.anonymity, user.id, "suspend", until, case.reason,
                              case.source)
    return until


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _int_param(params: dict[str, str], name: str, low: int, high: int, message: str, *,
               optional: bool = False) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw and optional:
        return None
    value = parse_int(raw, max_digits=6, low=low, high=high)
    if value is None:
        raise Invalid(fields={name: message})
    return value


@dataclass
class _Case:
    """One decision being taken: what every handler reads, and the audit details it adds to."""

    session: AsyncSession
    viewer: Viewer
    review: Review
    adapter: Any
    kind: str
    target_id: int
    view: TargetView
    action: str
    reason: str | None
    params: dict[str, str]
    details: dict[str, Any] = field(default_factory=dict)
    writer_id: int | None = None  # the writer a conversation opens with (never audited: may be anonymous)

    @property
    def source(self) -> str:
        """The piece, as a restriction that follows from it records it (sealed)."""
        return f"{self.kind}:{self.target_id}"

    @property
    def said(self) -> str:
        return f" Reason: {self.reason}" if self.reason else ""


async def _tool(case: _Case) -> str | None:
    """A kind's own tools (the thread tools for posts: edit, lock, pin, move)."""
    described = await case.adapter.apply(case.session, case.viewer, case.review.settings, case.target_id,
                                         case.action, case.params)
    case.details["change"] = described
    return f"A moderator {described} ({case.view.title}).{case.said}"


async def _keep(case: _Case) -> str | None:
    """keep, restore, approve: the writing is (again) visible."""
    view = case.view
    if view.state == "removed" and case.action != "restore":
        raise Invalid("This was removed; use Restore to bring it back.")
    if view.state == "visible":
        return None
    await case.adapter.set_state(case.session, case.target_id, "visible", None)
    # Held writing (pending posts; shared reflections and replies held by a watched word are "hidden").
    if view.state == "pending" or case.action == "approve":
        return f"Your writing ({view.title}) was approved and is now visible."
    return f"A moderator reviewed your writing ({view.title}); it is visible again."


async def _check_in(case: _Case) -> str | None:
    """Care, not a sanction: nothing goes on the writer's record, and the writing stays as it is."""
    case.writer_id = (await _reachable_author(case.session, case.adapter, case.target_id)).id
    return f"A moderator is checking in about something you wrote ({case.view.title}): {case.reason}"


async def _take_down(case: _Case) -> str | None:
    """hide, remove."""
    state = "hidden" if case.action == "hide" else "removed"
    if case.view.state == state:
        raise Invalid(f"This is already {state}.")
    await case.adapter.set_state(case.session, case.target_id, state, case.reason)
    verb = "hid" if case.action == "hide" else "removed"
    return f"A moderator {verb} your writing ({case.view.title}).{case.said}"


async def _sanction(case: _Case) -> str | None:
    """warn, silence, suspend: on the writer, with an optional action on the writing."""
    user = await _author_for_sanction(case.session, case.viewer, case.adapter, case.target_id, case.view,
                                      case.action)
    case.writer_id = user.id
    content = case.params.get("content", "")
    if content not in ("", "hide", "remove"):
        raise Invalid(fields={"content": "Choose what happens to the writing."})
    until, author_text = await _SANCTIONS[case.action](case, user)
    anonymous = case.view.anonymous
    # The member's sanction record (the "Author's history" moderators see beside their signed writing) holds
    # sanctions on signed writing only. One on anonymous writing there would name its writer to any moderator
    # who opens a signed post of theirs; its record is the audit entry, which names the piece, never the member.
    if not anonymous:
        case.session.add(Sanction(user_id=user.id, kind=case.action, reason=case.reason or "", until=until,
                                  created_by=case.viewer.id))
    state = "hidden" if content == "hide" else "removed"
    if content and case.view.state != state:
        await case.adapter.set_state(case.session, case.target_id, state, case.reason)
        case.details["content"] = content
    if not anonymous:
        case.details["member_id"] = user.id
    return author_text


async def _warn(case: _Case, user: User) -> tuple[datetime | None, str]:
    where = "something you shared" if case.view.anonymous else "your writing"
    return None, f"A private message from the moderators about {where} ({case.view.title}): {case.reason}"


async def _silence(case: _Case, user: User) -> tuple[datetime | None, str]:
    hours = _int_param(case.params, "hours", 1, 24 * 365, "Choose how long posting is paused.")
    assert hours is not None
    until = datetime.now(UTC) + timedelta(hours=hours)
    if case.view.anonymous:  # whole days, and not on the member's row (see accounts.restrictions)
        until = _day(until) + timedelta(days=1)
        await restrictions.impose(case.session, case.review.anonymity, user.id, "silence", until, case.reason,
                                  case.source)
    else:
        await accounts.set_silenced(case.session, user.id, until)
    case.details["hours"] = hours
    return until, f"A moderator paused your posting until {until:%d %B %Y, %H:%M} UTC. You can still read.{case.said}"


async def _suspend_writer(case: _Case, user: User) -> tuple[datetime | None, str]:
    days = _int_param(case.params, "days", 1, 3650, "Choose between 1 and 3,650 days, or leave it empty.",
                      optional=True)
    until = await _suspend(case, user, days)
    case.details["days"] = days
    return until, f"Your account was suspended.{case.said}"


async def _lift(case: _Case) -> str | None:
    """Ends early what a silence or suspension over this anonymous piece imposed (accounts.restrictions): any
    moderator lifts a silence, only an admin a suspension. Over signed writing, the member's admin page does."""
    if not case.view.anonymous:
        raise Invalid("Restrictions over signed writing are lifted on the member's page.")
    held = await restrictions.about(case.session, case.review.anonymity, case.source)
    if not held:
        raise Invalid("Nothing that followed from this piece restricts its writer now.")
    if any(row.kind == "suspend" for row in held) and not case.viewer.is_admin:
        raise Forbidden("Only an admin can lift a suspension.")
    await restrictions.lift(case.session, held)
    case.details["lifted"] = sorted({row.kind for row in held})
    return f"A moderator lifted the restriction that followed from something you shared ({case.view.title}).{case.said}"


_SANCTIONS = {"warn": _warn, "silence": _silence, "suspend": _suspend_writer}
_HANDLERS = {"keep": _keep, "restore": _keep, "approve": _keep, "check_in": _check_in, "hide": _take_down,
             "remove": _take_down, "warn": _sanction, "silence": _sanction, "suspend": _sanction, "lift": _lift}


async def decide(session: AsyncSession, viewer: Viewer, review: Review, *, kind: str, target_id: int,
                 action: str, reason: str = "", params: dict[str, str] | None = None) -> Decision:
    """Takes one decision through its handler, then the shared ending: audit, the writer, the flaggers."""
    require_staff(viewer)
    adapter = adapter_or_404(review.targets, kind)
    extra = getattr(adapter, "extra_decisions", ())
    if action not in RESOLVING and action not in extra and action != "lift":
        raise Invalid(fields={"action": "Choose one of the available decisions."})
    reason_text = check_reason(action, reason)
    view = await access_target(session, viewer, review.targets, kind, target_id)
    case = _Case(session, viewer, review, adapter, kind, target_id, view, action, reason_text, params or {})
    author_text = await (_tool if action in extra else _HANDLERS[action])(case)
    return await _finish(case, author_text)


async def _finish(case: _Case, author_text: str | None) -> Decision:
    """The ending every decision shares: close the item and flags, write the audit entry (its reason sealed when
    it is about a hidden writer), tell the writer, and thank the flaggers."""
    session, viewer, action = case.session, case.viewer, case.action
    item_id, flaggers = (None, [])
    if action in RESOLVING:
        item_id, flaggers = await resolve(session, viewer, case.kind, case.target_id, action, case.reason)
    case.details.update({"item": item_id, "flags": len(flaggers)})
    if item_id is not None and case.view.anonymous:
        await forget_times(session, item_id)
    to_hidden_writer = case.view.anonymous and action in ("check_in", "warn", "silence", "suspend", "lift")
    await audit.record(session, viewer, f"moderation.{action}", target_type=case.kind, target_id=case.target_id,
                       target_label=case.view.title, reason=case.reason, details=case.details,
                       seal_reason_with=case.review.anonymity if to_hidden_writer else None)
    conversation_url = None
    if author_text:
        url = case.view.url if action not in ("remove", "suspend") else None
        if action in checkins.CONVERSATION_ACTIONS and case.writer_id is not None:
            conversation = await checkins.open_conversation(session, case.review, case.view, case.writer_id, viewer,
                                                            action, case.reason or author_text)
            url = conversation_url = checkins.url_of(conversation.id)
            author_text += " You can answer: open this to reply privately to the moderator, or to close it."
        await case.adapter.notify_author(session, case.target_id, NOTIFICATION_KIND.get(action, "moderation"),
                                         author_text, url)
    await _thank_flaggers(case, [flagger for flagger in flaggers if flagger != viewer.id])
    return Decision(action, f"Done: {LABELS[action].lower()}.", item_id, conversation_url)


async def _thank_flaggers(case: _Case, flaggers: list[int]) -> None:
    """Flaggers may not see hidden or removed writing: then the thanks names only its kind, never its title
    (for a privacy removal the title may be the identifier). Otherwise it names it, and is shown only while
    the writing stays visible to them."""
    outcome = ANONYMOUS_SANCTION_OUTCOME if case.view.anonymous and case.action in _SANCTIONS \
        else FLAGGER_OUTCOME.get(case.action)
    if not outcome or not flaggers:
        return
    title, kind = case.view.title, case.kind
    after = (await case.adapter.load(case.session, [case.target_id])).get(case.target_id)
    if after is not None and after.state == "visible" and kind in notifications.TARGET_KINDS:
        text, target = f"Thank you for your flag on {title}. A moderator {outcome}.", (kind, case.target_id)
    else:
        text, target = (f"Thank you for your flag on {FLAGGED_KIND.get(kind, 'some writing')}. "
                        f"A moderator {outcome}."), None
    for flagger in flaggers:
        await notifications.notify(case.session, user_id=flagger, kind="moderation", text=text, target=target)
