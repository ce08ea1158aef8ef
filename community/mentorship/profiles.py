"""Member cards and the mentor directory.

A card shows a member's name and, field by field, what they chose to show: to every signed-in member, to staff
only, or to nobody (CARD_FIELDS, CARD_DEFAULTS). It opens from a name on signed writing only: anonymous writing
never links to a card. The directory lists members who opted in (attendings, and residents in their final year
who say so); opting out takes them out of the directory and their office hours out of reach at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.mentorship.models import MemberCard, MentorProfile
from community.platform.accounts.models import User
from community.platform.errors import Forbidden, Invalid, NotFound
from community.platform.viewer import Viewer

CARD_FIELDS = {"role": "Role", "specialty": "Specialty", "training_year": "Training year", "pronouns": "Pronouns",
               "handle": "Handle"}
AUDIENCES = {"members": "Every member", "staff": "Moderators and admins only", "nobody": "Nobody"}
CARD_DEFAULTS = {"role": "members", "specialty": "members", "training_year": "staff", "pronouns": "members",
                 "handle": "members"}
MAX_TAGS, TAG_MAX = 8, 60


@dataclass(frozen=True)
class Card:
    user_id: int
    name: str
    fields: list[tuple[str, str]]  # (label, value) the viewer may see
    mentor: MentorProfile | None   # listed in the directory


def visibility(card: MemberCard | None) -> dict[str, str]:
    chosen = card.visibility if card is not None else {}
    return {f: chosen.get(f, CARD_DEFAULTS[f]) if chosen.get(f) in AUDIENCES else CARD_DEFAULTS[f]
            for f in CARD_FIELDS}


def _shown(audience: str, viewer: Viewer, owner_id: int) -> bool:
    return viewer.id == owner_id or audience == "members" or (audience == "staff" and viewer.is_moderator)


def _not_suspended():  # type: ignore[no-untyped-def]
    """A suspended member has no card while suspended, as they are left out of @ suggestions (a suspension over
    anonymous writing is not on the row, and stays so)."""
    return User.suspended_at.is_(None) | (User.suspended_until.isnot(None) & (User.suspended_until <= func.now()))


async def card_for(session: AsyncSession, viewer: Viewer, handle: str) -> Card:
    row = (await session.execute(select(User, MemberCard, MentorProfile)
                                 .outerjoin(MemberCard, MemberCard.user_id == User.id)
                                 .outerjoin(MentorProfile, MentorProfile.user_id == User.id)
                                 .where(func.lower(User.handle) == handle.lower()[:30],
                                        User.deleted_at.is_(None), _not_suspended()))).first()
    if row is None:
        raise NotFound("There is no member with this handle.")
    user, card, mentor = row
    chosen = visibility(card)
    fields = [(label, str(getattr(user, name) if name != "handle" else f"@{user.handle}"))
              for name, label in CARD_FIELDS.items()
              if getattr(user, name) and _shown(chosen[name], viewer, user.id)]
    return Card(user.id, user.display_name, fields, mentor if mentor is not None and mentor.listed else None)


async def save_card(session: AsyncSession, viewer: Viewer, choices: dict[str, str]) -> None:
    errors = {f: "Choose who sees this." for f in CARD_FIELDS if choices.get(f) not in AUDIENCES}
    if errors:
        raise Invalid(fields=errors)
    values = {f: choices[f] for f in CARD_FIELDS}
    await session.execute(insert(MemberCard).values(user_id=viewer.id, visibility=values).on_conflict_do_update(
        index_elements=["user_id"], set_={"visibility": values, "updated_at": func.now()}))


async def card_choices(session: AsyncSession, viewer: Viewer) -> dict[str, str]:
    return visibility(await session.get(MemberCard, viewer.id))


def may_mentor(viewer: Viewer, final_year: bool) -> bool:
    return viewer.role in ("attending", "moderator", "admin") or (viewer.role == "resident" and final_year)


def _tags(value: str, field: str) -> list[str]:
    tags = []
    for part in value.replace("\n", ",").split(","):
        part = " ".join(part.split())
        if part and part.lower() not in {t.lower() for t in tags}:
            tags.append(part)
    if len(tags) > MAX_TAGS or any(len(t) > TAG_MAX for t in tags):
        raise Invalid(fields={field: f"Up to {MAX_TAGS}, separated by commas, each at most {TAG_MAX} characters."})
    return tags


async def save_mentor(session: AsyncSession, viewer: Viewer, *, listed: bool, final_year: bool, specialties: str,
                      interests: str, help_with: str, takes_conversations: bool) -> MentorProfile:
    """Opts in or out of the directory; out is at once (the directory and bookings read `listed`)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for field, raw in (("specialties", specialties), ("interests", interests)):
        try:
            values[field] = _tags(raw, field)
        except Invalid as exc:
            errors.update(exc.fields)
    help_text = help_with.replace("\x00", "").strip()
    if len(help_text) > 1000:
        errors["help_with"] = "Use at most 1,000 characters."
    if listed and not may_mentor(viewer, final_year):
        errors["final_year"] = "Residents join the directory in their final year of training."
    if listed and not errors and not values["specialties"]:
        errors["specialties"] = "Name at least one specialty, so residents can find you."
    if errors:
        raise Invalid(fields=errors)
    row = dict(listed=listed, final_year=final_year and viewer.role == "resident", help_with=help_text,
               takes_conversations=takes_conversations, **values)
    await session.execute(insert(MentorProfile).values(user_id=viewer.id, **row).on_conflict_do_update(
        index_elements=["user_id"], set_={**row, "updated_at": func.now()}))
    profile = await session.get(MentorProfile, viewer.id, populate_existing=True)
    assert profile is not None
    return profile


async def my_mentor_profile(session: AsyncSession, viewer: Viewer) -> MentorProfile | None:
    return await session.get(MentorProfile, viewer.id)


@dataclass(frozen=True)
class Listing:
    user_id: int
    name: str
    handle: str
    role: str
    profile: MentorProfile


async def directory(session: AsyncSession, viewer: Viewer, *, specialty: str = "",
                    interest: str = "") -> tuple[list[Listing], list[str], list[str]]:
    """Listed mentors, filtered by specialty and interest (case-insensitive), and every specialty and interest
    in the directory for the filter's choices."""
    query = (select(User, MentorProfile).join(MentorProfile, MentorProfile.user_id == User.id)
             .where(MentorProfile.listed.is_(True), User.deleted_at.is_(None), User.suspended_at.is_(None)))
    rows = (await session.execute(query.order_by(User.display_name).limit(500))).all()
    every = [(u, p) for u, p in rows]
    specialties = sorted({s for _, p in every for s in p.specialties}, key=str.lower)
    interests = sorted({s for _, p in every for s in p.interests}, key=str.lower)

    def matches(values: list[str], wanted: str) -> bool:
        return not wanted or wanted.lower() in (v.lower() for v in values)

    found = [Listing(u.id, u.display_name, u.handle, u.role, p) for u, p in every
             if matches(p.specialties, specialty) and matches(p.interests, interest)]
    return found, specialties, interests


async def access_mentor(session: AsyncSession, viewer: Viewer, mentor_id: int) -> Listing:
    row = (await session.execute(select(User, MentorProfile).join(MentorProfile, MentorProfile.user_id == User.id)
                                 .where(User.id == mentor_id, User.deleted_at.is_(None)))).first()
    if row is None or not row[1].listed:
        raise NotFound("This mentor is not in the directory.")
    if row[0].suspended_at is not None:
        raise Forbidden("This mentor is not taking bookings just now.")
    return Listing(row[0].id, row[0].display_name, row[0].handle, row[0].role, row[1])


async def access_mentor_name(session: AsyncSession, mentor_id: int) -> str:
    """A booking's mentor's name, whether or not they are still listed."""
    return await session.scalar(select(User.display_name).where(User.id == mentor_id)) or "Former member"
