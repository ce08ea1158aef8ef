"""Seed reflection prompts, written in our own words from the themes in THEMES.md.

Idempotent: the slug is the natural key and existing rows are never touched, so admins' edits survive re-seeding.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.reflections.models import Prompt

# (slug, theme, minutes, title, text)
PROMPTS: list[tuple[str, str, int, str, str]] = [
    # 1. Empathy is not compassion
    ("feel-with-or-move-toward", "empathy-compassion", 5, "Feeling with, or moving toward",
     "Think of a patient whose pain you felt this week. Was it closer to \"I feel your pain\" or to \"I see "
     "your pain and I'm here to help\"? What did each leave you with afterwards?"),
    ("compassion-in-the-body", "empathy-compassion", 2, "Where compassion lives",
     "Compassion is sometimes described as partly beyond words, something felt in the body. Recall a moment "
     "you acted kindly at work. Where did you notice it: in your chest, your hands, your breathing?"),
    ("not-clinical-distance", "empathy-compassion", 5, "Connection without drowning",
     "Some of us were taught that distance protects us. Describe a time you stayed connected to a patient "
     "without being swept away. What made that possible?"),
    ("more-than-empathy", "empathy-compassion", 15, "More than empathy",
     "People who work in medicine often say compassion asks for action, not only understanding. Write about "
     "a small action you took, or wish you had taken, for someone who was suffering."),
    ("warmth-that-refuels", "empathy-compassion", 5, "Warmth that refuels",
     "Research on compassion training found it engaged reward and affiliation circuits rather than pain "
     "circuits. When has caring for someone left you with more energy rather than less?"),
    ("can-it-be-practised", "empathy-compassion", 2, "Can it be practised?",
     "If compassion can be cultivated, what is one tiny practice you could try on your next shift?"),
    # 2. Empathic distress and burnout
    ("feel-differently", "empathic-distress", 5, "Not less, differently",
     "The answer to burnout may not be to feel less but to feel differently. What would feeling differently "
     "about your hardest patient look like?"),
    ("three-dimensions", "empathic-distress", 15, "Exhaustion, distance, doubt",
     "Burnout is often measured as emotional exhaustion, depersonalisation and a sense of reduced "
     "accomplishment. Which of the three do you recognise in yourself lately, and when did you first notice it?"),
    ("after-the-hard-one", "empathic-distress", 5, "After the hard one",
     "Write about the case you keep carrying home. What part of it is yours to hold, and what part could you "
     "set down?"),
    ("detachment-as-armour", "empathic-distress", 5, "Detachment as armour",
     "Pulling away can feel like protection and later turn into numbness. Have you noticed yourself going "
     "numb? What were you protecting?"),
    ("what-did-not-help", "empathic-distress", 2, "What hasn't helped",
     "Wellness sessions and shorter hours have not fixed burnout for many people. What has helped you, even "
     "a little, that no programme offered?"),
    ("heavy-rotation", "empathic-distress", 15, "The heaviest rotation",
     "Some services weigh more than others: oncology, critical care, high-risk obstetrics. Write about the "
     "rotation that weighed most on you and what it taught you about your limits."),
    # 3. Scripted empathy and empathic dissonance
    ("you-feel-because", "scripted-empathy", 5, "\"You feel ___ because ___\"",
     "Many of us learned empathy as a formula with a required number of statements. When did a scripted phrase "
     "come out of your mouth? Did it help the patient, or did it get in the way?"),
    ("empathic-dissonance", "scripted-empathy", 5, "Saying what you don't feel",
     "Expressing empathy you do not feel can be uncomfortable. Describe a moment of that dissonance. What "
     "did you actually feel underneath?"),
    ("doctor-voice", "scripted-empathy", 2, "The doctor voice at home",
     "Has your \"doctor voice\" ever slipped into a conversation with a friend or partner? What did you notice "
     "when it did?"),
    ("script-became-real", "scripted-empathy", 5, "When the script became yours",
     "Some people find rehearsed phrases slowly become genuine. Is there a phrase you once said by rote that "
     "now means something to you?"),
    ("not-understanding", "scripted-empathy", 5, "Knowing you don't understand",
     "Recognising that you cannot fully understand a patient can itself be emotional skill. Write about a "
     "patient whose experience you knew you could not fully grasp, and how you stayed present anyway."),
    ("emotional-capital", "scripted-empathy", 15, "What you brought with you",
     "Each of us arrived in medicine with experience of loss, care and difference that no curriculum asked "
     "about. What did you bring that helps you with patients today?"),
    # 4. The hidden curriculum
    ("what-really-counts", "hidden-curriculum", 5, "What really counts",
     "Exams and biomedical courses can feel like the only things that count. What did training teach you, "
     "without saying it, about how much kindness matters?"),
    ("unkind-place", "hidden-curriculum", 15, "Kind in an unkind place",
     "It can be hard to be kind in an unkind place. Describe a moment on the wards when kindness felt costly, "
     "and what you chose to do."),
    ("being-shouted-at", "hidden-curriculum", 5, "When you were made to feel small",
     "Many trainees remember being treated as incompetent while they were still learning. If one such moment "
     "still stays with you, what would you say now to the person you were then?"),
    ("futility", "hidden-curriculum", 5, "When the system fails the patient",
     "Write about a time you could not get a patient what they needed because the support simply did not "
     "exist. How did you carry that?"),
    ("lesson-you-refuse", "hidden-curriculum", 2, "A lesson you refuse to learn",
     "Name one habit of the culture around you that you have decided not to pass on."),
    # 5. Role models and life experience
    ("compassionate-preceptor", "role-models", 5, "Someone who showed you how",
     "Think of a supervisor who treated patients and the whole team with compassion. What exactly did they do "
     "that you still remember?"),
    ("unlike-yourself", "role-models", 15, "Meeting people unlike you",
     "Contact with people whose lives differ from ours can widen compassion. Write about someone, inside or "
     "outside medicine, who changed how you see others."),
    ("chaplain-lesson", "role-models", 5, "Learning from other healers",
     "Chaplains, nurses, social workers and interpreters often sit with suffering differently than doctors do. "
     "What have you learned from watching one of them?"),
    ("the-role-model-you-are", "role-models", 2, "The example you set",
     "A student or junior is watching you this week. What do you hope they learn from how you treat people?"),
    ("a-difficult-example", "role-models", 5, "An example not to follow",
     "Some role models teach us what we do not want to become. Without naming anyone, what did you learn from "
     "an unempathetic example?"),
    # 6. Self-care
    ("completely-zapped", "self-care", 2, "Running on empty",
     "It is hard to be compassionate when you are completely zapped. On a scale of your own making, how full "
     "is your tank today, and what is one thing that would add a little?"),
    ("original-motivation", "self-care", 5, "Why you came",
     "Write a few lines to yourself about why you chose medicine. Is there a daily ritual that could remind you "
     "of it?"),
    ("kindness-toward-yourself", "self-care", 5, "Turning kindness inward",
     "Loving-kindness practice often begins with oneself. Write to yourself the way you would to a colleague "
     "having the week you are having."),
    ("one-breath", "self-care", 2, "One breath between rooms",
     "Before the next patient, take one slow breath at the door. Afterwards, note what you noticed."),
    ("what-restores-you", "self-care", 15, "What restores you",
     "List the people, places and activities that restore you. Which have you lost touch with during training, "
     "and which could you reclaim this month?"),
    # 7. Time
    ("four-letter-word", "time", 2, "Time, the four-letter word",
     "If you had ten more minutes with one patient today, who would it be, and what would you do with them?"),
    ("sitting-with", "time", 5, "Simply sitting with someone",
     "Have you ever sat with a struggling patient just to be with them? If that time disappeared as the "
     "rotation got busier, what was lost?"),
    ("minutes-not-hours", "time", 2, "Compassion in minutes",
     "What is the smallest act of compassion that fits into a busy shift? Describe one you managed this week."),
    ("where-time-goes", "time", 15, "Where your time goes",
     "Walk through yesterday hour by hour. Where did your time go, and where would you move one hour if you "
     "could?"),
    # 8. Life after training
    ("still-need-this", "beyond-training", 5, "Out of training, still in need",
     "Training ends, but the weight does not. As an attending or practising physician, where do you find "
     "support now?"),
    ("mentor-and-person", "beyond-training", 5, "Mentor and person",
     "Attendings are mentors and also people who need care. Write about a time you supported a trainee while "
     "struggling yourself."),
    ("letter-to-a-resident", "beyond-training", 15, "A letter to a resident",
     "Write a letter to a resident starting out today. What do you wish someone had told you about compassion "
     "and about caring for yourself?"),
    ("what-changed", "beyond-training", 5, "What changed after training",
     "How has the way you feel about patients changed since you finished training? What do you miss, and what "
     "are you glad to have left behind?"),
    ("share-your-experience", "beyond-training", 2, "Adding your voice",
     "This community is a conversation between residents and attendings. What is one thing you would like the "
     "other group to know about your experience?"),
]


async def seed(session: AsyncSession) -> dict[str, int]:
    before = await session.scalar(select(func.count()).select_from(Prompt)) or 0
    rows = [{"slug": slug, "theme": theme, "minutes": minutes, "title": title, "text": text}
            for slug, theme, minutes, title, text in PROMPTS]
    await session.execute(insert(Prompt).values(rows).on_conflict_do_nothing(index_elements=["slug"]))
    after = await session.scalar(select(func.count()).select_from(Prompt)) or 0
    return {"prompts": after - before}
