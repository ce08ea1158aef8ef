"""Two mentors from the themes, with office hours: an attending in internal medicine who writes about burnout
and the hidden curriculum, and a paediatric attending who runs debriefs after hard cases. Idempotent: members are
found by handle, and a mentor who already has office hours gets none added."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.mentorship.models import MentorProfile, OfficeHours
from community.platform.accounts.models import User

MENTORS = [
    {"handle": "dr_okafor", "display_name": "Dr. Amara Okafor", "email": "amara.okafor@example.org",
     "specialty": "Internal medicine", "pronouns": "she/her", "timezone": "America/New_York",
     "specialties": ["Internal medicine"], "interests": ["Burnout", "Hidden curriculum", "Intern year"],
     "help_with": "The first months of intern year, feeling like an impostor, and how to say no to the "
                  "hidden curriculum without losing your team.",
     "hours": [(1, 19 * 60, 20 * 60, 20), (3, 12 * 60, 13 * 60, 30)]},
    {"handle": "dr_lindqvist", "display_name": "Dr. Erik Lindqvist", "email": "erik.lindqvist@example.org",
     "specialty": "Pediatrics", "pronouns": "he/him", "timezone": "Europe/Stockholm",
     "specialties": ["Pediatrics", "Emergency medicine"], "interests": ["Grief", "Debriefing", "Parenthood"],
     "help_with": "After a child's death or a case that went wrong: how to debrief, how to go home, and when "
                  "to ask for more help.",
     "hours": [(2, 18 * 60, 19 * 60, 20)]},
]


async def seed(session: AsyncSession) -> dict[str, int]:
    added = hours_added = 0
    for mentor in MENTORS:
        user_id = await session.scalar(insert(User).values(
            email=mentor["email"], display_name=mentor["display_name"], handle=mentor["handle"], role="attending",
            specialty=mentor["specialty"], pronouns=mentor["pronouns"], training_year="attending",
            timezone=mentor["timezone"]).on_conflict_do_nothing().returning(User.id))
        if user_id is None:
            continue
        added += 1
        await session.execute(insert(MentorProfile).values(
            user_id=user_id, listed=True, specialties=mentor["specialties"], interests=mentor["interests"],
            help_with=mentor["help_with"]).on_conflict_do_nothing())
        if await session.scalar(select(func.count()).where(OfficeHours.mentor_id == user_id)):
            continue
        for weekday, start, end, slot in mentor["hours"]:
            session.add(OfficeHours(mentor_id=user_id, weekday=weekday, start_minute=start, end_minute=end,
                                    slot_minutes=slot, timezone=mentor["timezone"], retention_hours=24))
            hours_added += 1
    await session.flush()
    return {"mentors": added, "office hours": hours_added}
