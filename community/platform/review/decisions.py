"""Moderation decisions, for every kind of content, through its TargetAdapter.

A decision may come from the queue or be taken directly (no flag). Each one is written to the audit log with its
reason; the author (through the adapter: a sealed tag for anonymous writing) and the flaggers are told the
outcome. For anonymous content, the audit entry names the content, never its author.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts import actions as accounts
from community.platform.accounts.actions import require_staff
from community.platform.accounts.models import User
from community.platform.errors import Forbidden, Invalid
from community.platform.notify import notifications
from community.platform.review import audit
from community.platform.review.models import Sanction
from community.platform.review.queue import access_target, adapter_or_404, resolve
from community.platform.review.targets import Review, TargetView
from community.platform.viewer import Viewer

# Decisions that close the review item (and the flags), and those that act on the content or its thread only.
RESOLVING = ("keep", "check_in", "approve", "hide", "remove", "restore", "warn", "silence", "suspend")
LABELS = {
    "keep": "Keep (dismiss the flags)", "check_in": "Check in with the writer privately (the writing stays)",
    "approve": "Approve", "hide": "Hide", "remove": "Remove",
    "restore": "Restore", "warn": "Warn privately", "silence": "Silence", "suspend": "Suspend",
    "edit": "Edit", "lock": "Lock thread", "unlock": "Unlock thread", "pin": "Pin thread",
    "unpin": "Unpin thread", "move": "Move thread",
}
NEEDS_REASON = ("check_in", "remove", "warn", "silence", "suspend", "edit", "hide")
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
FLAGGED_KIND = {"post": "a post", "reflection": "a reflection", "reflection_reply": "a reply to a reflection",
                "room_message": "a message in a live room"}
REASON_MAX = 1000
NOTIFICATION_KIND = {"warn": "warning", "check_in": "check_in"}


@dataclass
class Decision:
    action: str
    message: str          # for the moderator's flash
    item_id: int | None


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


async def _author_for_sanction(session: AsyncSession, viewer: Viewer, adapter: Any, target_id: int) -> User:
    user = await _reachable_author(session, adapter, target_id)
    if user.id == viewer.id:
        raise Invalid("You cannot sanction yourself.")
    if user.role in ("moderator", "admin") and not viewer.is_admin:
        raise Forbidden("Only an admin can sanction a moderator or an admin.")
    return user


async def _suspend(session: AsyncSession, viewer: Viewer, view: TargetView, user: User, reason: str,
                   days: int | None) -> None:
    if not view.anonymous:
        await accounts.suspend(session, viewer, user.id, reason, days)
        return
    # Anonymous writing: the same effect, without accounts.suspend's audit entry, which would name the member,
    # and with times cut to the day so they cannot be matched against the audit entry's exact time.
    today = _day(accounts.now())
    user.suspended_at = today
    user.suspended_until = today + timedelta(days=days + 1) if days else None
    user.suspended_reason = reason
    await accounts.revoke_sessions(session, user.id)


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _int_param(params: dict[str, str], name: str, low: int, high: int, message: str, *,
               optional: bool = False) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw and optional:
        return None
    if not raw.isdigit() or len(raw) > 6 or not low <= int(raw) <= high:
        raise Invalid(fields={name: message})
    return int(raw)


async def decide(session: AsyncSession, viewer: Viewer, review: Review, *, kind: str, target_id: int,
                 action: str, reason: str = "", params: dict[str, str] | None = None) -> Decision:
    require_staff(viewer)
    params = params or {}
    settings, targets = review.settings, review.targets
    adapter = adapter_or_404(targets, kind)
    extra = getattr(adapter, "extra_decisions", ())
    if action not in RESOLVING and action not in extra:
        raise Invalid(fields={"action": "Choose one of the available decisions."})
    reason_text = check_reason(action, reason)
    view = await access_target(session, viewer, targets, kind, target_id)
    details: dict[str, Any] = {}
    author_text: str | None = None
    title = view.title
    said = f" Reason: {reason_text}" if reason_text else ""

    if action in extra:
        described = await adapter.apply(session, viewer, settings, target_id, action, params)  # type: ignore[attr-defined]
        details["change"] = described
        author_text = f"A moderator {described} ({title}).{said}"
    elif action in ("keep", "restore", "approve"):
        if view.state == "removed" and action != "restore":
            raise Invalid("This was removed; use Restore to bring it back.")
        if view.state != "visible":
            await adapter.set_state(session, target_id, "visible", None)
            # Held writing (pending posts; shared reflections and replies held by a watched word are "hidden").
            author_text = (f"Your writing ({title}) was approved and is now visible."
                           if view.state == "pending" or action == "approve"
                           else f"A moderator reviewed your writing ({title}); it is visible again.")
    elif action == "check_in":
        # Care, not a sanction: nothing goes on the writer's record, and the writing stays as it is.
        await _reachable_author(session, adapter, target_id)
        author_text = f"A moderator is checking in about something you wrote ({title}): {reason_text}"
    elif action in ("hide", "remove"):
        state = "hidden" if action == "hide" else "removed"
        if view.state == state:
            raise Invalid(f"This is already {state}.")
        await adapter.set_state(session, target_id, state, reason_text)
        verb = "hid" if action == "hide" else "removed"
        author_text = f"A moderator {verb} your writing ({title}).{said}"
    else:  # sanctions: warn, silence, suspend, with an optional action on the content
        user = await _author_for_sanction(session, viewer, adapter, target_id)
        content = params.get("content", "")
        if content not in ("", "hide", "remove"):
            raise Invalid(fields={"content": "Choose what happens to the writing."})
        until = None
        if action == "warn":
            author_text = (f"A private message from the moderators about your writing ({title}): {reason_text}"
                           if not view.anonymous else
                           f"A private message from the moderators about something you shared ({title}): "
                           f"{reason_text}")
        elif action == "silence":
            hours = _int_param(params, "hours", 1, 24 * 365, "Choose how long posting is paused.")
            assert hours is not None
            until = datetime.now(UTC) + timedelta(hours=hours)
            if view.anonymous:  # whole days, so the row's time cannot be matched with the audit entry
                until = _day(until) + timedelta(days=1)
            await accounts.set_silenced(session, user.id, until)
            details["hours"] = hours
            author_text = (f"A moderator paused your posting until {until:%d %B %Y, %H:%M} UTC. You can still "
                           f"read.{said}")
        else:
            days = _int_param(params, "days", 1, 3650, "Choose between 1 and 3,650 days, or leave it empty.",
                              optional=True)
            await _suspend(session, viewer, view, user, reason_text or "", days)
            details["days"] = days
            until = user.suspended_until
            author_text = f"Your account was suspended.{said}"
        if view.anonymous:
            # No moderator id and only the day: nothing on this row lines up with the audit entry.
            session.add(Sanction(user_id=user.id, kind=action, reason=reason_text or "", until=until,
                                 created_by=None, created_at=_day(datetime.now(UTC))))
        else:
            session.add(Sanction(user_id=user.id, kind=action, reason=reason_text or "", until=until,
                                 created_by=viewer.id))
        if content and view.state != ("hidden" if content == "hide" else "removed"):
            await adapter.set_state(session, target_id, "hidden" if content == "hide" else "removed", reason_text)
            details["content"] = content
        if not view.anonymous:
            details["member_id"] = user.id

    item_id, flaggers = (None, [])
    if action in RESOLVING:
        item_id, flaggers = await resolve(session, viewer, kind, target_id, action, reason_text)
    details.update({"item": item_id, "flags": len(flaggers)})
    to_hidden_writer = view.anonymous and action in ("check_in", "warn", "silence", "suspend")
    await audit.record(session, viewer, f"moderation.{action}", target_type=kind, target_id=target_id,
                       target_label=title, reason=reason_text, details=details,
                       seal_reason_with=review.anonymity if to_hidden_writer else None)
    if author_text:
        await adapter.notify_author(session, target_id, NOTIFICATION_KIND.get(action, "moderation"),
                                    author_text, view.url if action not in ("remove", "suspend") else None)
    outcome = FLAGGER_OUTCOME.get(action)
    flaggers = [flagger for flagger in flaggers if flagger != viewer.id]
    if outcome and flaggers:
        # Flaggers may not see hidden or removed writing: then the thanks names only its kind, never its title
        # (for a privacy removal the title may be the identifier). Otherwise it names it, and is shown only
        # while the writing stays visible to them.
        after = (await adapter.load(session, [target_id])).get(target_id)
        if after is not None and after.state == "visible" and kind in notifications.TARGET_KINDS:
            text, target = f"Thank you for your flag on {title}. A moderator {outcome}.", (kind, target_id)
        else:
            text, target = f"Thank you for your flag on {FLAGGED_KIND.get(kind, 'some writing')}. A moderator {outcome}.", None
        for flagger in flaggers:
            await notifications.notify(session, user_id=flagger, kind="moderation", text=text, target=target)
    return Decision(action, f"Done: {LABELS[action].lower()}.", item_id)
