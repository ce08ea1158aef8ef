"""The grouped cross-validation's command line (a full run takes minutes: `make bench` territory, not a test)."""

from __future__ import annotations

import pytest

from community.platform.safety import crossval


def test_only_needs_writers_and_known_suffixes(capsys):
    with pytest.raises(SystemExit):
        crossval.main(["--only", "_o"])
    assert "--only needs --writers" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        crossval.main(["--writers", "--only", "_zz"])
    assert "invalid choice" in capsys.readouterr().err
