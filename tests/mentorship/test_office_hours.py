"""Office hours through the real pages: publishing, the directory's filters, booking signed and anonymously
(the mentor sees a pseudonym only), refusals (past slots, double booking by the unique index), cancelling and
moving (the other person is told), no-shows freeing the slot, reminders with .ics, private rooms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from community.mentorship import office_hours, reminders
from community.mentorship.models import Booking
from community.platform.mail.models import OutboxMessage
from community.platform.review.models import Notification
from community.rooms.models import Room, RoomParticipant
from community.rooms.private import PRIVATE_ROOMS
from tests.conftest import PASSWORD
from tests.mentorship.conftest import booking_id_of, first_slot, make_mentor


async def test_directory_filters_and_opting_out_hides_at_once(member_factory, login):
    mentor = await member_factory("attending", name="Dr. Rosa Alvarez")
    m = await login(mentor)
    await make_mentor(m, specialties="Cardiology, Internal medicine", interests="Parenthood")
    resident = await login(await member_factory())
    page = (await resident.get("/mentors?specialty=cardiology")).text
    assert "Dr. Rosa Alvarez" in page
    assert "Dr. Rosa Alvarez" not in (await resident.get("/mentors?specialty=Surgery")).text
    assert "Dr. Rosa Alvarez" not in (await resident.get("/mentors?interest=Grief")).text
    assert "Dr. Rosa Alvarez" in (await resident.get("/mentors?interest=parenthood")).text
    assert (await resident.get(f"/mentors/{mentor.id}")).status_code == 200

    response = await m.post_form("/mentors/me", {"specialties": "Cardiology", "interests": ""})
    assert response.status_code == 303
    assert "Dr. Rosa Alvarez" not in (await resident.get("/mentors")).text
    assert (await resident.get(f"/mentors/{mentor.id}")).status_code == 404


async def test_bad_input_keeps_the_draft(member_factory, login):
    m = await login(await member_factory("attending"))
    response = await m.post_form("/mentors/me", {"listed": "1", "specialties": "", "help_with": "Keep me"})
    assert response.status_code == 400 and "Name at least one specialty" in response.text
    assert "Keep me" in response.text
    resident = await login(await member_factory())
    response = await resident.post_form("/mentors/me", {"listed": "1", "specialties": "Surgery"})
    assert response.status_code == 400 and "final year" in response.text
    await make_mentor(m)
    response = await m.post_form("/mentors/me/hours", {"weekday": "9", "start": "25:00", "end": "x",
                                                       "slot_minutes": "٣", "retention": "forever"})
    assert response.status_code == 400
    for message in ("Choose a day of the week.", "Use a time like 19:00.", "Slots last 10 to 120 minutes."):
        assert message in response.text


async def test_an_anonymous_booking_shows_the_mentor_a_pseudonym_only(member_factory, login, db):
    mentor = await member_factory("attending", name="Dr. Ines Mora")
    m = await login(mentor)
    await make_mentor(m)
    booker = await member_factory(name="Luca Ferrante", specialty="Surgery", pronouns="he/him")
    r = await login(booker)
    response = await r.post_form(f"/mentors/{mentor.id}/book", {"slot": await first_slot(db, mentor.id),
                                                                "as": "pseudonym"})
    assert response.status_code == 303, response.text[:2000]
    bid = booking_id_of(response)
    async with db.transaction() as session:
        booking = await session.get(Booking, bid)
        assert booking.booker_id is None and booking.anonymous and booking.booker_tag and booking.sealed_booker
        assert bid >= 10**11 and booking.created_at.astimezone(UTC).time().isoformat() == "00:00:00"
        room = await session.get(Room, booking.room_id)
        assert room.private and room.host_id == mentor.id
    for page in (f"/mentorship/bookings/{bid}", "/mentorship/bookings", "/notifications"):
        html = (await m.get(page)).text
        assert booking.label in html or page == "/notifications"
        for secret in (booker.display_name, booker.handle, booker.email, "Surgery", "he/him"):
            assert secret not in html, (page, secret)
    assert booking.label in (await m.get("/notifications")).text
    # The resident finds it again (through the keyring) and sees the room.
    mine = (await r.get("/mentorship/bookings")).text
    assert f"/mentorship/bookings/{bid}" in mine and "booked anonymously" in mine
    assert (await r.get(f"/mentorship/bookings/{bid}")).status_code == 200


async def test_past_slots_and_double_bookings_are_refused(member_factory, login, db):
    mentor = await member_factory("attending")
    m = await login(mentor)
    await make_mentor(m)
    slot = await first_slot(db, mentor.id)
    first, second = await login(await member_factory()), await login(await member_factory())
    assert (await first.post_form(f"/mentors/{mentor.id}/book", {"slot": slot})).status_code == 303
    response = await second.post_form(f"/mentors/{mentor.id}/book", {"slot": slot, "as": "pseudonym"})
    assert response.status_code == 409 and "just booked that slot" in response.text
    hours_id = slot.split("|")[0]
    past = (datetime.now(UTC) - timedelta(days=7)).replace(hour=10, minute=0, second=0, microsecond=0)
    response = await second.post_form(f"/mentors/{mentor.id}/book", {"slot": f"{hours_id}|{past.isoformat()}"})
    assert response.status_code == 400 and "already started" in response.text
    response = await second.post_form(f"/mentors/{mentor.id}/book", {"slot": f"{hours_id}|2030-13-01"})
    assert response.status_code == 400 and "Choose one of the open slots." in response.text
    # The database itself refuses a second booked row for the same start (no check-then-insert race).
    async with db.transaction() as session:
        held = (await session.scalars(select(Booking).where(Booking.mentor_id == mentor.id))).one()
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                session.add(Booking(mentor_id=mentor.id, starts_at=held.starts_at, ends_at=held.ends_at,
                                    booker_id=None, anonymous=True))
                await session.flush()


async def test_cancelling_and_moving_tell_the_other_person(member_factory, login, db):
    mentor = await member_factory("attending", name="Dr. Omar Haddad")
    m = await login(mentor)
    await make_mentor(m)
    r = await login(await member_factory())
    response = await r.post_form(f"/mentors/{mentor.id}/book", {"slot": await first_slot(db, mentor.id),
                                                                "as": "pseudonym"})
    bid = booking_id_of(response)
    new_slot = await first_slot(db, mentor.id)  # the next free one
    response = await r.post_form(f"/mentorship/bookings/{bid}/move", {"slot": new_slot})
    assert response.status_code == 303, response.text[:2000]
    assert "moved their office hour" in (await m.get("/notifications")).text
    async with db.transaction() as session:
        booking = await session.get(Booking, bid)
        room = await session.get(Room, booking.room_id)
        assert booking.starts_at.isoformat() == new_slot.split("|")[1] and room.starts_at == booking.starts_at
    # The mentor may not move it; the mentor cancels, and the anonymous booker is told through their tag.
    assert (await m.post_form(f"/mentorship/bookings/{bid}/move", {"slot": new_slot})).status_code == 403
    assert (await m.post_form(f"/mentorship/bookings/{bid}/cancel")).status_code == 303
    assert "Dr. Omar Haddad cancelled the office hour" in (await r.get("/notifications")).text
    async with db.transaction() as session:
        assert (await session.get(Room, booking.room_id)).state == "ended"
        note = (await session.scalars(select(Notification).where(Notification.recipient_tag.is_not(None))
                                      .order_by(Notification.id.desc()))).first()
        assert note.user_id is None and "cancelled" not in note.text  # sealed
    assert new_slot in [f"{s.hours_id}|{s.key}" for s in await _free(db, mentor.id)]


async def _free(db, mentor_id):
    async with db.transaction() as session:
        return await office_hours.free_slots(session, mentor_id)


async def test_a_no_show_frees_the_slot_and_an_attended_one_is_done(member_factory, login, db):
    mentor = await member_factory("attending")
    m = await login(mentor)
    await make_mentor(m)
    ids = []
    for anonymous in (True, False):
        r = await login(await member_factory())
        response = await r.post_form(f"/mentors/{mentor.id}/book", {"slot": await first_slot(db, mentor.id),
                                                                    "as": "pseudonym" if anonymous else "name"})
        ids.append(booking_id_of(response))
    async with db.transaction() as session:
        past = datetime.now(UTC) - timedelta(minutes=30)
        for n, bid in enumerate(ids):
            await session.execute(update(Booking).where(Booking.id == bid).values(
                starts_at=past + timedelta(minutes=n), ends_at=past + timedelta(minutes=20 + n)))
        came = await session.get(Booking, ids[1])
        await session.execute(update(RoomParticipant).where(RoomParticipant.room_id == came.room_id,
                                                            RoomParticipant.role == "member").values(entered=True))
        counts = await office_hours.mark_no_shows(session, PRIVATE_ROOMS)
        assert counts == {"office hours no-shows": 1, "office hours done": 1}
        missed = await session.get(Booking, ids[0], populate_existing=True)
        assert missed.state == "no_show" and (await session.get(Room, missed.room_id)).state == "ended"
    assert "did not come" in (await m.get("/notifications")).text


async def test_reminders_mail_the_mentor_and_signed_booker_with_ics_and_tell_the_anonymous_tag(
        member_factory, login, db, app):
    mentor = await member_factory("attending")
    m = await login(mentor)
    await make_mentor(m)
    signed = await member_factory()
    for user, how in ((signed, "name"), (await member_factory(), "pseudonym")):
        r = await login(user)
        assert (await r.post_form(f"/mentors/{mentor.id}/book", {"slot": await first_slot(db, mentor.id),
                                                                 "as": how})).status_code == 303
    async with db.transaction() as session:
        soon = datetime.now(UTC) + timedelta(minutes=30)
        for n, booking in enumerate((await session.scalars(select(Booking))).all()):
            booking.starts_at, booking.ends_at = soon + timedelta(minutes=20 * n), soon + timedelta(minutes=20 * n + 20)
        await session.flush()
        counts = await reminders.send_reminders(session, app.state.outbox, app.state.settings)
        assert counts == {"office hour reminders": 4}  # the mentor twice, the signed booker, the anonymous tag
        mails = (await session.scalars(select(OutboxMessage).where(OutboxMessage.template == "office_hour_reminder"))).all()
        assert sorted(mail.to_addr for mail in mails) == sorted([mentor.email, mentor.email, signed.email])
        assert all("BEGIN:VCALENDAR" in mail.attachments[0]["content"] for mail in mails)
        assert (await reminders.send_reminders(session, app.state.outbox, app.state.settings)) == {
            "office hour reminders": 0}


async def test_a_private_room_is_only_for_its_two(member_factory, login, db):
    mentor = await member_factory("attending")
    m = await login(mentor)
    await make_mentor(m)
    r = await login(await member_factory())
    bid = booking_id_of(await r.post_form(f"/mentors/{mentor.id}/book", {"slot": await first_slot(db, mentor.id)}))
    async with db.transaction() as session:
        room_id = (await session.get(Booking, bid)).room_id
    for role in ("resident", "attending", "moderator", "admin"):
        other = await login(await member_factory(role))
        assert (await other.get(f"/rooms/{room_id}")).status_code == 403, role
        assert (await other.post_form(f"/rooms/{room_id}/join", {"accept": "1"})).status_code == 403, role
        assert f"/rooms/{room_id}\"" not in (await other.get("/rooms")).text
        assert (await other.get(f"/mentorship/bookings/{bid}")).status_code == 404, role
        assert (await other.get(f"/mentorship/bookings/{bid}/calendar.ics")).status_code == 404, role
    assert (await r.get(f"/rooms/{room_id}")).status_code == 200
    assert (await m.get(f"/rooms/{room_id}")).status_code == 200
    ics = await r.get(f"/mentorship/bookings/{bid}/calendar.ics")
    assert ics.status_code == 200 and "BEGIN:VEVENT" in ics.text
    async with db.transaction() as session:
        assert await session.scalar(text("SELECT count(*) FROM room_participants WHERE room_id = :r"),
                                    {"r": room_id}) == 2


async def test_leaving_cancels_bookings_and_forgets_the_seal(member_factory, login, db):
    mentor = await member_factory("attending", name="Dr. Kofi Mensah")
    m = await login(mentor)
    await make_mentor(m)
    r = await login(await member_factory())
    bid = booking_id_of(await r.post_form(f"/mentors/{mentor.id}/book", {"slot": await first_slot(db, mentor.id),
                                                                         "as": "pseudonym"}))
    exported = await r.get("/account/data/export.json")
    assert exported.status_code == 200 and "Dr. Kofi Mensah" in exported.text
    response = await r.post_form("/account/data/delete", {"password": PASSWORD, "choice": "anonymize"})
    assert response.status_code == 303, response.text[:2000]
    async with db.transaction() as session:
        booking = await session.get(Booking, bid)
        assert booking.state == "cancelled" and booking.sealed_booker is None and booking.booker_tag is None
        assert (await session.get(Room, booking.room_id)).state == "ended"
    assert "cancelled the office hour" in (await m.get("/notifications")).text


async def test_moving_onto_a_held_slot_is_refused_by_the_index(member_factory, login, db):
    mentor = await member_factory("attending")
    m = await login(mentor)
    await make_mentor(m)
    a, b = await login(await member_factory()), await login(await member_factory())
    first = await first_slot(db, mentor.id)
    bid = booking_id_of(await a.post_form(f"/mentors/{mentor.id}/book", {"slot": first}))
    second = await first_slot(db, mentor.id)
    assert booking_id_of(await b.post_form(f"/mentors/{mentor.id}/book", {"slot": second, "as": "pseudonym"}))
    response = await a.post_form(f"/mentorship/bookings/{bid}/move", {"slot": second})
    assert response.status_code == 409 and "just booked that slot" in response.text
    async with db.transaction() as session:
        assert (await session.get(Booking, bid)).starts_at.isoformat() == first.split("|")[1]
