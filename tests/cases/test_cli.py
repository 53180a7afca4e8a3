"""yiwang cases daily|recompute|number."""

import pytest
from django.core.management import CommandError, call_command

from tests.cases import factories as f
from yiwang.cases import clock


@pytest.fixture(autouse=True)
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"


def test_cli(db, capsys):
    w = f.world()
    f.accepted(w)
    call_command("cases", "daily")
    assert "视为受理 0 件" in capsys.readouterr().out
    call_command("cases", "recompute", "--years", str(clock.today().year))
    assert "检查 1 件" in capsys.readouterr().out
    call_command("cases", "number", "44010600000020261009000042")
    assert "序号 42" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("cases", "number", "nope")
