"""Restrictions on a member that follow from decisions about their anonymous writing (models.AnonRestriction).

- `impose` stores one under the member's first free slot, and tells every process's viewer cache to load the
  member afresh (a NOTIFY, which leaves nothing in the database).
- `in_force` says what applies to a member now, from their slots. `IN_FORCE_COLUMNS` says the same inside the one
  statement that loads the viewer (accounts.actions.VIEWER_SQL).

Nothing here writes the member's row, ends their sessions or records their id: a suspended member's sessions stay,
and the viewer load refuses them while the suspension lasts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts.models import AnonRestriction
from community.platform.anonymity import Anonymity
from community.platform.errors import Forbidden, Invalid

# Two columns of VIEWER_SQL; `{slots}` is the text[] parameter of the member's slots (NULL when not yet known).
IN_FORCE_COLUMNS = """
       (SELECT max(ar.until) FROM anon_restrictions ar
         WHERE ar.slot = ANY({slots}) AND ar.kind = 'silence' AND ar.until > now()) AS anon_silenced_until,
       EXISTS (SELECT 1 FROM anon_restrictions ar WHERE ar.slot = ANY({slots}) AND ar.kind = 'suspend'
                  AND (ar.until IS NULL OR ar.until > now())) AS anon_suspended"""


@dataclass(frozen=True, slots=True)
class InForce:
    silenced_until: datetime | None = None
    suspended: bool = False
    suspended_until: datetime | None = None
    reason: str | None = None

    def suspension_message(self) -> str:
        until = f" until {self.suspended_until:%d %B %Y}" if self.suspended_until else ""
        return f"This account is suspended{until}. Reason given: {self.reason or 'not stated'}."


def _current():  # type: ignore[no-untyped-def]
    return or_(AnonRestriction.until.is_(None), AnonRestriction.until > func.now())


async def in_force(session: AsyncSession, anonymity: Anonymity, user_id: int) -> InForce:
    rows = (await session.execute(select(AnonRestriction).where(
        AnonRestriction.slot.in_(anonymity.restriction_slots(user_id)), _current()))).scalars().all()
    silences = [row.until for row in rows if row.kind == "silence" and row.until is not None]
    suspensions = [row for row in rows if row.kind == "suspend"]
    if not suspensions:
        return InForce(silenced_until=max(silences, default=None))
    # The longest suspension speaks: one without an end outlasts any other.
    longest = max(suspensions, key=lambda row: row.until or datetime.max.replace(tzinfo=UTC))
    reason = anonymity.unseal(longest.sealed_reason) if longest.sealed_reason else None
    return InForce(silenced_until=max(silences, default=None), suspended=True, suspended_until=longest.until,
                   reason=reason)


async def impose(session: AsyncSession, anonymity: Anonymity, user_id: int, kind: str, until: datetime | None,
                 reason: str | None, source: str) -> None:
    """Stores a restriction (whole days: `until` must be a midnight) in the member's first free slot.

    `source` names the piece it follows from (kind:id); it is sealed, so only the app can find it again."""
    assert kind in ("silence", "suspend") and (until is not None or kind == "suspend")
    slots = anonymity.restriction_slots(user_id)
    await session.execute(delete(AnonRestriction).where(AnonRestriction.slot.in_(slots),
                                                        AnonRestriction.until <= func.now()))
    used = set((await session.scalars(select(AnonRestriction.slot).where(AnonRestriction.slot.in_(slots)))).all())
    today = anonymity.day_of(datetime.now(UTC))
    sealed = anonymity.seal(reason) if reason else None
    for slot in (slot for slot in slots if slot not in used):
        stored = await session.scalar(insert(AnonRestriction).values(
            slot=slot, kind=kind, until=until, sealed_reason=sealed, sealed_source=anonymity.seal(source),
            created_day=today,
        ).on_conflict_do_nothing(index_elements=["slot"]).returning(AnonRestriction.id))
        if stored is not None:
            await session.execute(text("SELECT pg_notify('viewer_changes', :payload)"), {"payload": f"u:{user_id}"})
            return
    raise Invalid("This writer already has as many restrictions in force as the app keeps; wait for one to end.")


async def refuse_if_suspended(session: AsyncSession, anonymity: Anonymity, user_id: int) -> None:
    """Sign-in and one-time links: a member suspended over anonymous writing hears so, with the reason."""
    held = await in_force(session, anonymity, user_id)
    if held.suspended:
        raise Forbidden(held.suspension_message())


async def about(session: AsyncSession, anonymity: Anonymity, source: str) -> list[AnonRestriction]:
    """The restrictions in force that followed from one piece: what its review page shows staff (the kind and the
    end, never the member). Few are in force at a time, so each one's sealed source is opened here."""
    rows = (await session.scalars(select(AnonRestriction).where(AnonRestriction.sealed_source.isnot(None),
                                                                _current()))).all()
    return [row for row in rows if anonymity.unseal(row.sealed_source or "") == source]


async def lift(session: AsyncSession, rows: list[AnonRestriction]) -> None:
    """Ends restrictions early; the member is loaded afresh everywhere on their next request."""
    await session.execute(delete(AnonRestriction).where(AnonRestriction.id.in_([row.id for row in rows])))
    await session.execute(text("SELECT pg_notify('viewer_changes', '*')"))
