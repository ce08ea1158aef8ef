"""An anonymous office-hours booking, against each attacker of docs/ANONYMITY.md: the mentor (booking pages,
notifications, the private room and a reported message's review), a moderator and an admin (the booking, the room,
the review page, the member's admin page), and a database copy (the booking's transaction, ids, times, and two
anonymous bookings of one resident with two mentors). Each must not tie the booking to the resident."""

from __future__ import annotations

from datetime import UTC, time

from sqlalchemy import select, text, update

from community.mentorship.models import Booking
from community.platform.accounts.actions import to_viewer
from community.platform.anonymity import Anonymity
from community.rooms import actions as rooms_actions
from community.rooms.models import Room, RoomParticipant
from tests.anonymity.test_member_row import PEOPLE_COLUMNS, _rows_of_transaction
from tests.mentorship.conftest import booking_id_of, first_slot, make_mentor


async def _mentor(member_factory, login, name: str):
    mentor = await member_factory("attending", name=name)
    client = await login(mentor)
    await make_mentor(client)
    return mentor, client


async def _book(db, client, mentor_id: int, how: str = "pseudonym") -> int:
    response = await client.post_form(f"/mentors/{mentor_id}/book", {"slot": await first_slot(db, mentor_id),
                                                                     "as": how})
    assert response.status_code == 303, response.text[:2000]
    return booking_id_of(response)


def _secrets(user) -> list[str]:
    return [user.display_name, user.handle, user.email, f"/members/{user.handle}", f"/admin/members/{user.id}"]


async def test_the_mentor_sees_the_pseudonym_and_nothing_else(member_factory, login, db, settings):
    mentor, m = await _mentor(member_factory, login, "Dr. Grace Obi")
    resident = await member_factory(name="Tomas Varga", specialty="Neurology", pronouns="they/them")
    r = await login(resident)
    bid = await _book(db, r, mentor.id)
    async with db.transaction() as session:
        booking = await session.get(Booking, bid)
        room_id = booking.room_id
        await session.execute(update(Room).where(Room.id == room_id).values(state="open"))
        guest = (await session.scalars(select(RoomParticipant).where(RoomParticipant.room_id == room_id,
                                                                     RoomParticipant.role == "member"))).one()
        posted = await rooms_actions.post_message(session, Anonymity(settings.anon_key), to_viewer(resident),
                                                  room_id, guest.id, "I have not slept properly in weeks.")
    pages = [f"/mentorship/bookings/{bid}", "/mentorship/bookings", "/notifications", f"/rooms/{room_id}",
             f"/mentorship/bookings/{bid}/calendar.ics"]
    for page in pages:
        response = await m.get(page)
        assert response.status_code == 200, page
        for secret in [*_secrets(resident), "Neurology", "they/them"]:
            assert secret not in response.text, (page, secret)
    assert booking.label in (await m.get(f"/rooms/{room_id}")).text
    assert guest.label == booking.label and guest.user_id is None
    # The mentor reports the message: the review page names the pseudonym, not the resident.
    assert (await m.post_form(f"/flag/room_message/{posted.message_id}", {"reason": "concern"})).status_code == 303
    for role in ("moderator", "admin"):
        staff = await login(await member_factory(role))
        review = await staff.get(f"/review/room_message/{posted.message_id}")
        assert review.status_code == 200 and booking.label in review.text, role
        for secret in _secrets(resident):
            assert secret not in review.text, (role, secret)
        # Nor the booking, the room, or the member's own admin page.
        assert (await staff.get(f"/mentorship/bookings/{bid}")).status_code == 404
        assert (await staff.get(f"/rooms/{room_id}")).status_code == 403
        if role == "admin":
            page = (await staff.get(f"/admin/members/{resident.id}")).text
            for telling in ("Dr. Grace Obi", booking.label, f"/mentorship/bookings/{bid}", f"/rooms/{room_id}"):
                assert telling not in page, telling


async def test_a_database_copy_cannot_tie_the_booking_to_the_resident(member_factory, login, db, settings):
    first, _ = await _mentor(member_factory, login, "Dr. Lena Park")
    second, _ = await _mentor(member_factory, login, "Dr. Yusuf Adeyemi")
    resident = await member_factory(name="Ada Kowalski")
    r = await login(resident)
    signed = await _book(db, await login(await member_factory()), first.id, "name")  # a signed booking just before
    ids = [await _book(db, r, first.id), await _book(db, r, second.id)]
    async with db.transaction() as session:
        rows = []
        for bid in ids:
            booking = await session.get(Booking, bid)
            rows.append(booking)
            xmin = await session.scalar(text("SELECT xmin::text FROM mentor_bookings WHERE id = :id"), {"id": bid})
            written = await _rows_of_transaction(db, xmin)
            assert {"mentor_bookings", "rooms", "room_participants", "notifications"} <= {t for t, _ in written}
            for table, row in written:
                assert not (table == "users" and row["id"] == resident.id), row
                assert not any(row.get(column) == resident.id for column in (*PEOPLE_COLUMNS, "booker_id")), \
                    (table, row)
                assert "Ada Kowalski" not in str(row) and resident.email not in str(row), (table, row)
                for column in ("created_at", "accepted_rules_at"):
                    if row.get(column) and table in ("mentor_bookings", "rooms", "room_participants",
                                                     "notifications"):
                        assert row[column].endswith("T00:00:00+00:00"), (table, column, row[column])
            # The seal opens with the app's key only.
            assert Anonymity("some other key").unseal_id(booking.sealed_booker) is None
            assert Anonymity(settings.anon_key).unseal_id(booking.sealed_booker) == resident.id
            assert booking.created_at.astimezone(UTC).time() == time(0, 0)
        # Anonymous ids are not in the signed bookings' sequence: the signed row before says nothing.
        assert all(bid >= 10**11 for bid in ids) and signed < 10**11
        # Two anonymous bookings of one resident share no keyed value (tags, seals, pseudonyms may repeat by
        # chance only), and no booking row anywhere carries the resident's id.
        assert rows[0].booker_tag != rows[1].booker_tag and rows[0].sealed_booker != rows[1].sealed_booker
        assert await session.scalar(select(Booking.id).where(Booking.booker_id == resident.id)) is None
        assert await session.scalar(select(RoomParticipant.id).where(RoomParticipant.user_id == resident.id)) is None
