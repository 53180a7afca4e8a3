import pytest
from django.core.management import CommandError, call_command

from tests.conftest import shared_path

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("workdays", *args, stdout=out)
    return out.getvalue().strip()


def test_add_prints_the_date():
    assert run("add", "2026-09-30", "5") == "2026-10-13"


def test_add_natural_and_pause():
    assert run("add", "2026-11-02", "3", "--unit", "natural") == "2026-11-05"
    assert run("add", "2026-11-02", "10", "--pause", "2026-11-04/2026-11-06") == "2026-11-18"


def test_between():
    assert run("between", "2026-09-30", "2026-10-13") == "5"


def test_provisional_results_say_so():
    out = run("add", "2026-12-25", "10")
    assert out.startswith("2027-01-08")
    assert "暂定" in out and "2027" in out


def test_next_and_status():
    assert run("next", "2026-09-30") == "2026-10-08"
    assert "已知年份" in run("status")


def test_bad_input_is_a_command_error():
    with pytest.raises(CommandError):
        run("add", "2026-02-30", "5")
    with pytest.raises(CommandError):
        run("add", "2026-01-01", "5", "--unit", "weeks")
    with pytest.raises(CommandError):
        run("import", "/nonexistent/path")


def test_import_folder():
    out = run("import", str(shared_path("holidays", "holiday-cn-json")))
    assert "2027" in out and "尚未公布" in out
