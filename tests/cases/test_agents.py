"""帮办代办: an agent or a hall helper files and follows a case; the authorisation is checked every time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import authorization, person, staff
from yiwang.accounts.models import Authorization
from yiwang.accounts.roles import Role
from yiwang.cases import agents, selectors, services
from yiwang.cases.models import Message
from yiwang.cases.states import State
from yiwang.core.errors import NotFound, PermissionDenied, ValidationFailed

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return f.world()


def filed_by_agent(w, scopes=("case.apply", "case.view")):
    grant = authorization(w.applicant, w.stranger, scopes=scopes, valid_until=timezone.now() + dt.timedelta(days=1))
    case, _ = services.case_apply(
        actor=w.stranger,
        item_code=w.item.code,
        form_data=dict(f.FORM),
        files=f.files_for_required(w.item.current_version),
        applicant_id=w.applicant.pk,
    )
    return case, grant


def test_both_identities_on_the_case_and_notices_to_both(w):
    case, grant = filed_by_agent(w)
    assert case.applicant == w.applicant and case.filed_by == w.stranger and case.authorization == grant
    title = f"申请已提交（{case.item_name}，{case.number}）"
    assert Message.objects.filter(user=w.applicant, title=title).exists()
    assert Message.objects.filter(user=w.stranger, title=title).exists()


def test_an_expired_authorisation_is_refused(w):
    case, grant = filed_by_agent(w, scopes=("case.apply", "case.withdraw"))
    Authorization.objects.filter(pk=grant.pk).update(valid_until=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(PermissionDenied) as info:
        services.case_withdraw(actor=w.stranger, case_id=case.pk, reason="不办了")
    assert info.value.code == "authorization_invalid" and info.value.details["reason"] == "expired"
    with pytest.raises(PermissionDenied) as info:
        selectors.case_get(user=w.stranger, case_id=case.pk)
    assert info.value.code == "authorization_invalid"
    assert case not in selectors.my_cases(user=w.stranger)
    assert services.case_withdraw(actor=w.applicant, case_id=case.pk).state == State.WITHDRAWN  # the applicant can


def test_a_revoked_authorisation_is_refused(w):
    case, grant = filed_by_agent(w)
    Authorization.objects.filter(pk=grant.pk).update(revoked_at=timezone.now())
    with pytest.raises(PermissionDenied) as info:
        services.case_withdraw(actor=w.stranger, case_id=case.pk)
    assert info.value.details["reason"] == "revoked"


def test_the_scope_must_cover_the_action(w):
    case, _ = filed_by_agent(w, scopes=("case.apply",))
    with pytest.raises(PermissionDenied) as info:
        services.case_withdraw(actor=w.stranger, case_id=case.pk)
    assert info.value.code == "authorization_scope"
    authorization(w.applicant, w.stranger, scopes=["case.withdraw"])
    assert services.case_withdraw(actor=w.stranger, case_id=case.pk).state == State.WITHDRAWN


def test_a_stranger_without_any_grant_learns_nothing(w):
    case = f.submitted(w)
    other = person(name="王五").user
    with pytest.raises(NotFound):
        services.case_withdraw(actor=other, case_id=case.pk)


@pytest.fixture
def helper(w):
    return staff(Role.HELPER, w.dept, display_name="帮办员周")


def test_hall_helper_files_and_follows_under_a_hall_authorisation(w, helper):
    with pytest.raises(PermissionDenied):
        services.case_create_draft(actor=helper, item_code=w.item.code, applicant_id=w.applicant.pk)
    grant = agents.helper_authorization_record(actor=helper, principal_id=w.applicant.pk, valid_days=7)
    assert grant.kind == Authorization.Kind.HALL_HELPER and grant.agent == helper
    assert grant.valid_until - grant.valid_from == dt.timedelta(days=7)
    assert agents.helper_principals(actor=helper) == [grant]
    case, _ = services.case_apply(
        actor=helper,
        item_code=w.item.code,
        form_data=dict(f.FORM),
        files=f.files_for_required(w.item.current_version),
        applicant_id=w.applicant.pk,
    )
    assert case.filed_by == helper and case.applicant == w.applicant and case.authorization == grant
    assert case.channel == "online" and case.state == State.SUBMITTED
    assert case in selectors.my_cases(user=helper)
    services.case_pretrial(actor=w.clerk, case_id=case.pk, outcome="pass")
    services.case_request_supplement(actor=w.clerk, case_id=case.pk, items=[f.deficiency(0)])
    for user in (w.applicant, helper):
        assert Message.objects.filter(user=user, title__startswith="请补正材料").exists()
    services.case_attach_file(actor=helper, case_id=case.pk, material_index=0, name="a.pdf", content=f.PDF)
    services.case_resubmit(actor=helper, case_id=case.pk)
    agents.helper_authorization_end(actor=w.applicant, authorization_id=grant.pk)
    with pytest.raises(PermissionDenied) as info:
        services.case_withdraw(actor=helper, case_id=case.pk)
    assert info.value.code == "authorization_invalid"


def test_only_helpers_record_hall_authorisations(w, helper):
    with pytest.raises(PermissionDenied) as info:
        agents.helper_authorization_record(actor=w.clerk, principal_id=w.applicant.pk)
    assert info.value.code == "helper_only"
    with pytest.raises(ValidationFailed):
        agents.helper_authorization_record(actor=helper, principal_id=w.applicant.pk, valid_days=365)
    with pytest.raises(NotFound):
        agents.helper_authorization_record(actor=helper, principal_id=w.clerk.pk)
