"""A broken pillar stops start-up with its real traceback: nothing is skipped quietly.

Each case copies the package, breaks one module on purpose, and starts `community serve` from the copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

BROKEN = [
    "community/rooms/moderation.py",            # the room message adapter
    "community/platform/safety/screening.py",   # screening, which every writing surface runs
    "community/reflections/pillar.py",          # a pillar's wiring
    "community/discussions/web/threads.py",     # a pillar's routes
]


@pytest.mark.parametrize("module", BROKEN)
def test_a_broken_module_stops_start_up_loudly(tmp_path: Path, module: str) -> None:
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "community", copy / "community", ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text() + "\nbroken_on_purpose()\n")
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-m", "community.cli", "serve", "--no-bootstrap"], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert "Traceback" in done.stderr
    assert f'File "{target}"' in done.stderr and "NameError: name 'broken_on_purpose' is not defined" in done.stderr
    assert "Serving on" not in done.stdout


def test_the_same_copy_unbroken_imports_cleanly(tmp_path: Path) -> None:
    """The cases above fail because of the break, not because a copied package cannot start."""
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "community", copy / "community", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", "import community.app as a, community.cli; print(a.__file__)"],
                          cwd=copy, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(copy / "community" / "app.py")
