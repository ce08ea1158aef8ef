"""Security regression tests share the discussion tests' fixtures (members by role, a lifted posting limit) and
the rooms tests' live servers."""

from tests.discussions.conftest import (  # noqa: F401  (fixtures are found by name)
    admin,
    attending,
    login_with,
    moderator,
    resident,
    settings,
)
from tests.rooms.conftest import rooms_env  # noqa: F401
