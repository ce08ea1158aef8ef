"""Cache-busting versions: a module that imports its parts with its own ?v= changes version with any part."""

from __future__ import annotations

from pathlib import Path

from community.platform.web.templates import STATIC_DIR, _static_versions


def test_an_entry_module_changes_version_with_its_parts(tmp_path: Path) -> None:
    (tmp_path / "js" / "room").mkdir(parents=True)
    (tmp_path / "js" / "room.js").write_text("entry")
    (tmp_path / "js" / "room" / "part.js").write_text("one")
    (tmp_path / "js" / "other.js").write_text("other")
    before = _static_versions(tmp_path)
    (tmp_path / "js" / "room" / "part.js").write_text("two")
    after = _static_versions(tmp_path)
    assert before["js/room.js"] != after["js/room.js"]
    assert before["js/room/part.js"] != after["js/room/part.js"]
    assert before["js/other.js"] == after["js/other.js"]


def test_the_room_client_imports_its_parts_with_its_own_version() -> None:
    entry = (STATIC_DIR / "js" / "room.js").read_text()
    assert "import.meta.url" in entry and "./room/connection.js${version}" in entry
    for part in (STATIC_DIR / "js" / "room").glob("*.js"):
        text = part.read_text()
        assert 'from "./' not in text, part  # a static relative import would skip the version
