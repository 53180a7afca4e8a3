"""Two people acting on the same case at the same moment, over real concurrent database connections."""

import threading

import pytest
from django.db import connection

from tests.cases import factories as f
from tests.cases.conftest import apply, concurrent
from tests.factories import staff
from yiwang.accounts.roles import Role
from yiwang.cases import services
from yiwang.cases.models import Case, CaseDocument, CaseEvent, CaseStep
from yiwang.core.errors import DomainError


@pytest.fixture(autouse=True)
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"


def race(*calls):
    """Run the calls at once (one thread and connection each); return (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(fn):
        try:
            barrier.wait()
            results.append(fn())
        except DomainError as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


@apply(concurrent)
def test_two_clerks_accept_the_same_case():
    w = f.world()
    second_clerk = staff(Role.WINDOW_CLERK, w.dept, display_name="窗口钱")
    case = f.received(w)
    results, errors = race(
        lambda: services.case_accept(actor=w.clerk, case_id=case.pk),
        lambda: services.case_accept(actor=second_clerk, case_id=case.pk),
    )
    assert len(results) == 1 and len(errors) == 1
    assert errors[0].code == "invalid_transition" and errors[0].status == 409
    case.refresh_from_db()
    assert case.state == "in_process"
    assert CaseEvent.objects.filter(case=case, action="accept").count() == 1
    assert CaseDocument.objects.filter(case=case, kind="accept").count() == 1
    assert CaseStep.objects.filter(case=case, kind="accept").count() == 1


@apply(concurrent)
def test_accept_against_supplement_notice():
    w = f.world()
    case = f.received(w)
    results, errors = race(
        lambda: services.case_accept(actor=w.clerk, case_id=case.pk),
        lambda: services.case_request_supplement(actor=w.clerk, case_id=case.pk, items=[f.deficiency()]),
    )
    assert len(results) == 1 and len(errors) == 1
    case.refresh_from_db()
    assert case.state in ("in_process", "supplement")
    assert CaseEvent.objects.filter(case=case, action__in=["accept", "request_supplement"]).count() == 1


@apply(concurrent)
def test_retried_submission_with_the_same_key_creates_one_case():
    w = f.world()
    files = f.files_for_required(w.item.current_version)

    def submit():
        case, _ = services.case_apply(
            actor=w.applicant,
            item_code=w.item.code,
            form_data=dict(f.FORM),
            files=files,
            idempotency_key="double-click-0001",
        )
        return case.pk

    results, errors = race(submit, submit, submit)
    assert not errors
    assert len(set(results)) == 1
    assert Case.objects.count() == 1


@apply(concurrent)
def test_concurrent_submissions_get_distinct_numbers():
    w = f.world()
    files = f.files_for_required(w.item.current_version)

    def submit():
        return services.case_apply(actor=w.applicant, item_code=w.item.code, form_data=dict(f.FORM), files=files)[
            0
        ].number

    results, errors = race(*[submit] * 5)
    assert not errors and len(set(results)) == 5
