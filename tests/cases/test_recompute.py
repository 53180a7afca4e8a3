"""Bulk recompute of stored deadlines: after a calendar change (2027 entered) and for warning levels."""

import datetime as dt

import pytest

from tests.cases import factories as f
from yiwang.cases import recompute, services
from yiwang.cases.models import Case, CasePause
from yiwang.core.actors import SystemActor
from yiwang.workdays import services as workdays

D = dt.date
SYSTEM = SystemActor("test")


@pytest.fixture(autouse=True)
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"


@pytest.fixture
def w(db):
    return f.world()


def open_case(w, accepted_on, *, promised=10, legal=20, unit="workday", pause=None):
    case = f.accepted(w)
    Case.objects.filter(pk=case.pk).update(
        accepted_on=accepted_on, promised_limit=promised, legal_limit=legal, promised_unit=unit, legal_unit=unit
    )
    if pause:
        CasePause.objects.create(case=case, kind="special", start=pause[0], end=pause[1])
    case.refresh_from_db()
    services.refresh_deadlines(case, on=accepted_on)
    case.save()
    return case


def expected(case, on):
    fresh = Case.objects.get(pk=case.pk)
    services.refresh_deadlines(fresh, on=on)
    return fresh.promised_due, fresh.legal_due, fresh.yellow_on, fresh.deadlines_provisional, fresh.warning_level


def stored(case):
    c = Case.objects.get(pk=case.pk)
    return c.promised_due, c.legal_due, c.yellow_on, c.deadlines_provisional, c.warning_level


def test_a_case_running_into_an_unknown_year_is_provisional(w):
    case = open_case(w, D(2026, 12, 21))
    assert case.deadlines_provisional
    assert case.promised_due == D(2027, 1, 4)  # 8 days in 2026, then 2027 by the Mon–Fri rule: 01-01, 01-04


def test_entering_2027_recomputes_provisional_cases(w, django_capture_on_commit_callbacks):
    case = open_case(w, D(2026, 12, 21))
    plain = open_case(w, D(2026, 3, 2))  # far from 2027: untouched
    untouched = stored(plain)
    with django_capture_on_commit_callbacks(execute=True):
        workdays.calendar_year_set(actor=SYSTEM, year=2027, published=True)
        workdays.calendar_day_set(actor=SYSTEM, date=D(2027, 1, 1), is_workday=False, name="元旦")
        workdays.calendar_day_set(actor=SYSTEM, date=D(2027, 1, 4), is_workday=False, name="元旦（测试）")
    case.refresh_from_db()
    assert not case.deadlines_provisional
    assert case.promised_due == D(2027, 1, 6)
    assert stored(plain) == untouched


def test_bulk_equals_one_by_one(w):
    on = D(2026, 10, 14)
    cases = [
        open_case(w, D(2026, 9, 28)),
        open_case(w, D(2026, 9, 28), unit="natural", promised=15, legal=30),
        open_case(w, D(2026, 9, 30), pause=(D(2026, 10, 9), D(2026, 10, 13))),
        open_case(w, D(2026, 12, 28), promised=60, legal=60),
    ]
    Case.objects.update(warning_level=0, yellow_on=None)  # make every row stale
    stats = recompute.recompute_open_cases(on=on)
    assert stats["checked"] == 4 and stats["paused"] == 1
    for case in cases:
        assert stored(case) == expected(case, on)
    assert recompute.recompute_open_cases(on=on)["changed"] == 0


def test_only_cases_touching_the_years_are_candidates(w):
    old = open_case(w, D(2026, 3, 2))
    new = open_case(w, D(2026, 12, 21))
    ids = set(recompute.candidates(years=[2027]).values_list("pk", flat=True))
    assert new.pk in ids and old.pk not in ids
    assert {old.pk, new.pk} <= set(recompute.candidates().values_list("pk", flat=True))


def test_refresh_levels(w):
    case = open_case(w, D(2026, 9, 28))
    assert recompute.refresh_levels(on=D(2026, 10, 14)) == 1
    assert Case.objects.get(pk=case.pk).warning_level == 1
    assert recompute.refresh_levels(on=D(2026, 10, 19)) == 1
    assert Case.objects.get(pk=case.pk).warning_level == 2
    assert recompute.refresh_levels(on=D(2026, 10, 19)) == 0


def _clones(case, variants):
    """Copies of an accepted case with other deadline inputs (bulk-created: no engine run on insert)."""
    from django.forms.models import model_to_dict

    base = model_to_dict(case, exclude=["id", "number", "item", "version", "department", "applicant", "filed_by"])
    base = {k: v for k, v in base.items() if k in {f.attname for f in Case._meta.concrete_fields}}
    rows = []
    for n, v in enumerate(variants):
        fields = {
            **base,
            "item_id": case.item_id,
            "version_id": case.version_id,
            "department_id": case.department_id,
            "applicant_id": case.applicant_id,
            "filed_by_id": case.filed_by_id,
            "number": f"{case.number}-{n}",
            "promised_due": None,
            "legal_due": None,
            "yellow_on": None,
            "deadlines_provisional": False,
            "warning_level": 0,
            **v,
        }
        rows.append(Case(**fields))
    return Case.objects.bulk_create(rows)


def test_grouped_recompute_equals_the_per_case_engine(w):
    """Many cases sharing input tuples, natural and working units, missing limits, extensions, a regional
    calendar, open and closed clock stops: every stored value equals what the per-case engine gives."""
    import itertools

    workdays.calendar_day_set(
        actor=SYSTEM, date=D(2026, 10, 12), is_workday=False, name="区调休", region_code="440106000000"
    )
    case = f.accepted(w)
    variants = []
    for start, (p, legal), unit, ext, region, state in itertools.product(
        [D(2026, 9, 28), D(2026, 9, 30), D(2026, 10, 9), D(2026, 12, 24)],
        [(5, 10), (10, None), (None, 20), (None, None), (30, 20)],
        ["workday", "natural", ""],
        [0, 5],
        ["440106000000", "440104000000"],
        ["in_process", "special"],
    ):
        variants.append(
            {
                "accepted_on": start,
                "promised_limit": p,
                "legal_limit": legal,
                "promised_unit": unit,
                "legal_unit": "natural" if unit == "" and p == 30 else unit,
                "extension_days": ext,
                "region_code": region,
                "state": state,
            }
        )
    clones = _clones(case, variants * 2)  # every tuple twice: one computation serves both
    paused = clones[:3]
    CasePause.objects.create(case=paused[0], kind="special", start=D(2026, 10, 9), end=D(2026, 10, 13))
    CasePause.objects.create(case=paused[1], kind="supplement", start=D(2026, 10, 12))
    on = D(2026, 10, 14)
    stats = recompute.recompute_open_cases(on=on)
    assert stats["paused"] == 2
    assert stats["groups"] < stats["checked"] - stats["paused"]
    for c in [case, *clones]:
        assert stored(c) == expected(c, on), c.number
    assert recompute.recompute_open_cases(on=on)["changed"] == 0


def test_recompute_leaves_closed_and_unrelated_cases_alone(w):
    live = open_case(w, D(2026, 9, 28))
    done = open_case(w, D(2026, 9, 28))
    Case.objects.filter(pk=done.pk).update(state="completed", warning_level=0, yellow_on=None)
    Case.objects.filter(pk=live.pk).update(warning_level=0, yellow_on=None)
    recompute.recompute_open_cases(on=D(2026, 10, 14))
    assert stored(live) == expected(live, D(2026, 10, 14))
    assert Case.objects.get(pk=done.pk).yellow_on is None


def test_one_audit_event_per_run(w):
    from yiwang.core.models import AuditEvent

    open_case(w, D(2026, 9, 28))
    open_case(w, D(2026, 9, 29))
    before = AuditEvent.objects.filter(action="case.deadlines_recompute").count()
    stats = recompute.recompute_open_cases(years=[2026], on=D(2026, 10, 14))
    events = AuditEvent.objects.filter(action="case.deadlines_recompute")
    assert events.count() == before + 1
    assert events.order_by("-id").first().summary["checked"] == stats["checked"] == 2
