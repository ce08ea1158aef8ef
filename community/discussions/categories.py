"""Admins add, edit, reorder and archive categories; every change lands in the audit log."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.discussions.models import Category
from community.platform.accounts.actions import require_admin
from community.platform.errors import Invalid, NotFound
from community.platform.review import audit
from community.platform.viewer import Viewer

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _clean_line(value: str, field: str, limit: int, *, required: bool) -> str:
    value = " ".join(value.split())
    if required and not value:
        raise Invalid(fields={field: "Please fill this in."})
    if len(value) > limit:
        raise Invalid(fields={field: f"Use at most {limit:,} characters."})
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in value):
        raise Invalid(fields={field: "This contains characters that cannot be shown."})
    return value


def slug_for(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60]


def _check(name: str, description: str, slug: str) -> tuple[str, str, str]:
    errors: dict[str, str] = {}
    values: list[str] = []
    for field, value, limit, required in (("name", name, 80, True), ("description", description, 500, False)):
        try:
            values.append(_clean_line(value, field, limit, required=required))
        except Invalid as exc:
            errors.update(exc.fields)
            values.append("")
    slug = slug.strip().lower() or slug_for(values[0])
    if not errors.get("name") and (not SLUG_RE.match(slug) or len(slug) > 60):
        errors["slug"] = "Use lower-case letters, digits and single hyphens (for example self-care)."
    if errors:
        raise Invalid(fields=errors)
    return values[0], values[1], slug


async def access_category(session: AsyncSession, actor: Viewer, category_id: int) -> Category:
    require_admin(actor)
    category = await session.get(Category, category_id)
    if category is None:
        raise NotFound("There is no such category.")
    return category


async def create_category(session: AsyncSession, actor: Viewer, *, name: str, description: str,
                          slug: str = "") -> Category:
    require_admin(actor)
    name, description, slug = _check(name, description, slug)
    if await session.scalar(select(Category.id).where(Category.slug == slug)):
        raise Invalid(fields={"slug": "Another category already uses this address."})
    position = (await session.scalar(select(func.max(Category.position)))) or 0
    category = Category(slug=slug, name=name, description=description, position=position + 1)
    session.add(category)
    await session.flush()
    await audit.record(session, actor, "category.create", target_type="category", target_id=category.id,
                       target_label=name)
    return category


async def update_category(session: AsyncSession, actor: Viewer, category_id: int, *, name: str,
                          description: str) -> Category:
    category = await access_category(session, actor, category_id)
    name, description, _ = _check(name, description, category.slug)
    changes = {k: v for k, v in (("name", name), ("description", description)) if getattr(category, k) != v}
    category.name, category.description = name, description
    await audit.record(session, actor, "category.edit", target_type="category", target_id=category.id,
                       target_label=name, details={"changed": sorted(changes)})
    return category


async def move_category(session: AsyncSession, actor: Viewer, category_id: int, direction: str) -> None:
    """Swaps the category with its neighbour above or below; positions are renumbered 0..n-1 first."""
    await access_category(session, actor, category_id)
    if direction not in ("up", "down"):
        raise Invalid("Choose up or down.")
    ids = list(await session.scalars(select(Category.id).order_by(Category.position, Category.id)
                                     .with_for_update()))
    at = ids.index(category_id)
    other = at - 1 if direction == "up" else at + 1
    if not 0 <= other < len(ids):
        return
    ids[at], ids[other] = ids[other], ids[at]
    for position, ident in enumerate(ids):
        await session.execute(update(Category).where(Category.id == ident).values(position=position))
    await audit.record(session, actor, "category.reorder", target_type="category", target_id=category_id,
                       details={"direction": direction})


async def set_archived(session: AsyncSession, actor: Viewer, category_id: int, archived: bool) -> Category:
    category = await access_category(session, actor, category_id)
    category.archived_at = func.now() if archived else None
    await audit.record(session, actor, "category.archive" if archived else "category.unarchive",
                       target_type="category", target_id=category.id, target_label=category.name)
    await session.flush()
    await session.refresh(category)
    return category
