"""Seed categories drawn from the themes, each with a pinned welcome thread from the Community team.

Idempotent by slug: a category that already exists is left exactly as admins made it (name, description, order,
archived), and its welcome thread is only written when the category itself is first created.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.discussions.models import Category, Post, Thread
from community.platform.text import plain_text, render_markdown

# (slug, name, description, welcome title, welcome body)
CATEGORIES: list[tuple[str, str, str, str, str]] = [
    (
        "introductions", "Introductions",
        "Say hello: where you train or work, what brought you here, what you hope to find.",
        "Welcome: tell us a little about yourself",
        "This is a place for residents and attendings to talk about the human side of clinical work.\n\n"
        "If you like, share where you are in training or practice, your specialty, and what brought you here. "
        "You do not need to share more than feels right. A single line is a fine start.\n\n"
        "A reminder that matters everywhere here: **never include anything that could identify a patient**.",
    ),
    (
        "empathy-vs-compassion", "Empathy and compassion",
        "Feeling someone's pain versus seeing it and moving to help: what the difference means on the wards.",
        "Welcome: is compassion more than empathy?",
        "Researchers draw a line between *empathy*, sharing another person's distress, and *compassion*, noticing "
        "suffering together with a warm wish to help. Brain-imaging work suggests the two feel different from the "
        "inside: one tends to wear us down, the other seems to sustain us.\n\n"
        "Compassion is not the old \"clinical distance\". The connection stays; it becomes something you can keep "
        "doing.\n\n"
        "When have you felt the difference? What helped you move from feeling *with* someone to acting *for* them?",
    ),
    (
        "scripted-empathy", "Scripted empathy",
        "Required empathy statements, the \"doctor voice\", and what it is like to say what you do not feel.",
        "Welcome: when empathy becomes a checklist",
        "Many of us learned empathy as a set of phrases to say a certain number of times per encounter. Some people "
        "find the drills become natural and help them listen. Others describe a quiet discomfort: saying words "
        "they do not feel, or hearing the \"doctor voice\" leak into their private lives.\n\n"
        "Both experiences are common. Knowing that you do *not* fully understand a patient can itself be a sign "
        "of emotional skill.\n\n"
        "How did scripted empathy land for you, then and now?",
    ),
    (
        "hidden-curriculum", "The hidden curriculum",
        "What training teaches without saying so: it can be hard to be kind in an unkind place.",
        "Welcome: what training taught you without meaning to",
        "Exams and biomedical coursework often carry the weight, and the \"doctoring\" parts get squeezed in "
        "around them. On the wards, a harsh moment or an unkind role model can teach more than any lecture.\n\n"
        "This category is for those lessons: the ones you want to unlearn, and the ones you want to pass on "
        "differently. Please describe situations, not identifiable people.",
    ),
    (
        "role-models", "Role models",
        "The preceptors, nurses, chaplains and colleagues who showed you what compassion looks like in practice.",
        "Welcome: who showed you how?",
        "Sometimes one person shows what compassionate care looks like, for patients and for the whole team, "
        "better than any course.\n\n"
        "Tell us about someone who did that for you, or a moment you saw it happen. What did they do that you "
        "still carry with you?",
    ),
    (
        "self-care-and-time", "Self-care and time",
        "It is hard to be compassionate when you are completely drained. Small practices that fit into minutes.",
        "Welcome: practices that fit into minutes",
        "Time is the constraint everyone names. Long wellness programmes rarely survive a busy rotation; small "
        "rituals sometimes do.\n\n"
        "What helps you reconnect with why you chose this work, in five minutes or less? A walk between patients, "
        "a breath before opening a door, a note to yourself: all of it is welcome here.",
    ),
    (
        "life-after-training", "Life after training",
        "Attendings and practising physicians: mentoring, and needing support yourself.",
        "Welcome: the conversation does not end at graduation",
        "Support often disappears when training ends, yet attendings carry the same weight, and more.\n\n"
        "This category is for practising physicians: what has changed for you, what you wish you had known, and "
        "how you look after yourself while looking after a team. Residents are warmly welcome to read and ask.",
    ),
]


async def seed(session: AsyncSession) -> dict[str, int]:
    created = 0
    for position, (slug, name, description, title, body) in enumerate(CATEGORIES):
        category_id = await session.scalar(
            pg_insert(Category).values(slug=slug, name=name, description=description, position=position)
            .on_conflict_do_nothing(index_elements=["slug"]).returning(Category.id))
        if category_id is None:
            continue  # already there: keep whatever admins have made of it
        created += 1
        thread_id = await session.scalar(insert(Thread).values(
            category_id=category_id, author_id=None, title=title, pinned=True, post_count=1,
        ).returning(Thread.id))
        post_id = await session.scalar(insert(Post).values(
            thread_id=thread_id, author_id=None, position=1, body_md=body, body_html=render_markdown(body),
            body_text=plain_text(body)).returning(Post.id))
        await session.execute(update(Thread).where(Thread.id == thread_id).values(first_post_id=post_id))
        await session.execute(update(Category).where(Category.id == category_id).values(thread_count=1))
    total = len((await session.scalars(select(Category.id))).all())
    return {"categories_created": created, "categories": total}
