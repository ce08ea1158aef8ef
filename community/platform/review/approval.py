"""New-member approval: a new member's first N shared pieces, on every surface that can wait (thread posts,
reflections shared on the wall, anonymous ones included, and replies to them), wait for a moderator's approval.

N is an admin setting (/admin/settings, kept in site_settings); NEW_MEMBER_APPROVAL_POSTS is only its default
until an admin sets it. A member is new while they have shared fewer than N pieces under their name, counted in
member_standing as they are shared (held or not). Anonymous pieces are judged by that same count and never
counted: a count of anyone's anonymous pieces, kept by member, would tell a copy of the database who writes
anonymously. So a member who writes only anonymously stays new, and each of their anonymous pieces waits. A live
room message cannot wait: rooms have a host present instead. Moderators' signed writing is exempt; anonymous
writing is not (nothing about an anonymous piece may depend on its writer's role).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts.actions import check_reason, require_admin
from community.platform.errors import Invalid
from community.platform.numbers import parse_int
from community.platform.review import audit, watched
from community.platform.review.models import SiteSetting
from community.platform.viewer import Viewer

NAME = "new_member_approval_posts"
MOST = 50


async def posts_to_approve(session: AsyncSession, default: int) -> int:
    """The admin's setting, or `default` (settings.new_member_approval_posts) while none is stored."""
    value = await session.scalar(select(SiteSetting.value).where(SiteSetting.name == NAME))
    number = parse_int(value or "", max_digits=3)
    return default if number is None else number


async def set_posts_to_approve(session: AsyncSession, actor: Viewer, raw: str, reason: str) -> int:
    require_admin(actor)
    number = parse_int((raw or "").strip(), max_digits=3)
    errors = {}
    if number is None or not 0 <= number <= MOST:
        errors["posts"] = f"Enter a whole number from 0 (off) to {MOST}."
    try:
        reason_text = check_reason(reason)
    except Invalid as exc:
        errors.update(exc.fields or {"reason": "Please give a reason."})
    if errors:
        raise Invalid(fields=errors)
    assert number is not None
    stmt = insert(SiteSetting).values(name=NAME, value=str(number), updated_by=actor.id)
    await session.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={
        "value": str(number), "updated_by": actor.id, "updated_at": stmt.excluded.updated_at}))
    await audit.record(session, actor, "settings.new_member_approval", target_type="setting", target_id=NAME,
                       target_label="New-member approval", reason=reason_text, details={"posts": number})
    return number


# The piece counted (or, anonymous, only the count read) with the admin's setting and the watched words: one
# statement, every shared new piece runs it. A refusal after it (a blocked word) rolls the count back with the
# rest of the transaction.
_COUNT_SIGNED = sql_text(f"""
INSERT INTO member_standing (user_id, shared) VALUES (:user_id, 1)
ON CONFLICT (user_id) DO UPDATE SET shared = member_standing.shared + 1
RETURNING shared - 1, (SELECT value FROM site_settings WHERE name = :name), {watched.WATCHED_JSON_SQL}""")
_STANDING = sql_text(f"""
SELECT (SELECT shared FROM member_standing WHERE user_id = :user_id),
       (SELECT value FROM site_settings WHERE name = :name), {watched.WATCHED_JSON_SQL}""")


async def counted_new_member(session: AsyncSession, viewer: Viewer, default: int, *,
                             anonymous: bool) -> tuple[bool, list[watched.Entry]]:
    """Counts a signed shared piece (always: the count must be right when an admin turns the rule on), and says
    whether the piece comes while the member is still new (so it waits), by the admin's setting, or `default`
    while none is stored. An anonymous piece is not counted. Also returns the watched-word list (read in the
    same statement) for publishing.check."""
    before, value, words = (await session.execute(_STANDING if anonymous else _COUNT_SIGNED,
                                                  {"user_id": viewer.id, "name": NAME})).one()
    entries = watched.entries_of_json(words)
    number = parse_int(value or "", max_digits=3)
    posts = default if number is None else number
    if posts <= 0 or (viewer.is_moderator and not anonymous):
        return False, entries
    return (before or 0) < posts, entries

