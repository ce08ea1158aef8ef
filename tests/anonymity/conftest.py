"""The anonymity tests write through the real pages, with the reflection tests' helpers and fixtures."""

from tests.reflections.conftest import admin, anon_key, login_with, moderator, settings, writer  # noqa: F401
