"""Moderation tests share the discussion tests' helpers and fixtures (members by role, a tuned settings)."""

from tests.discussions.conftest import (  # noqa: F401  (fixtures are found by name)
    admin,
    attending,
    login_with,
    moderator,
    resident,
    settings,
)
