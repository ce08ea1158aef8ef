"""Standing rooms, always open: a night-float lounge and a room for after a hard case (after Balint groups)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.text import render_markdown
from community.rooms.models import Room

BALINT_RULES = """- A facilitator (an attending or a moderator) keeps the time and the tone; follow their lead.
- Confidentiality: what is said here stays here. No screenshots, no retelling with names.
- Speak from your own experience: what you noticed, what you felt, what stayed with you.
- No patient identifiers: no names, ages with dates, record numbers, rooms or rare details.
- We are not here to fix each other or to grade the medicine. Curiosity over advice.
- Silence is fine. You can listen for a whole session.
- If you are in crisis, use "Need help now?" at the top of the page; a person will follow up."""

LOUNGE_RULES = """- Be kind; everyone here is tired.
- Speak for yourself, and let others speak for themselves.
- No patient identifiers, ever: no names, dates, record numbers or details that point to a person.
- Messages here are deleted after three days.
- If you are in crisis, use "Need help now?" at the top of the page."""

ROOMS = [
    {"slug": "night-float-lounge", "title": "Night-float lounge",
     "description": "A quiet corner for whoever is awake on nights: check in between pages, vent a little, "
                    "find out you are not the only one running on vending-machine coffee.",
     "theme_prompt": "What is one small thing that helped tonight?", "ground_rules": LOUNGE_RULES,
     "capacity": 60, "retention_hours": 72},
    {"slug": "after-a-hard-case", "title": "After a hard case",
     "description": "For the case you keep replaying: a death, a mistake, a family you could not reach. "
                    "Modelled on Balint groups: we stay with the experience, not the diagnosis.",
     "theme_prompt": "What stayed with you, and where do you feel it?", "ground_rules": BALINT_RULES,
     "capacity": 12, "retention_hours": 24},
    {"slug": "compassion-not-empathy", "title": "Feeling differently, not less",
     "description": "Empathy shares the pain; compassion sees it and moves to help. A room to practise the "
                    "difference: moments when you felt drained, and moments when caring felt sustaining.",
     "theme_prompt": "A moment this week when caring gave you energy instead of taking it.",
     "ground_rules": BALINT_RULES, "capacity": 30, "retention_hours": 168},
]


async def seed(session: AsyncSession) -> dict[str, int]:
    added = 0
    for room in ROOMS:
        result = await session.execute(
            insert(Room).values(kind="standing", state="open", allow_anonymous=True,
                                ground_rules_html=render_markdown(room["ground_rules"]), **room)
            .on_conflict_do_nothing(index_elements=["slug"]).returning(Room.id))
        added += len(result.all())
    return {"rooms": added}
