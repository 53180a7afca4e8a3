"""Accounts services: identity, enterprises, authorisations, window registration, staff, tokens."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import DepartmentFactory, StaffFactory, UserFactory, person, resident_id, staff
from yiwang.accounts import selectors, services
from yiwang.accounts.models import ApiToken, Authorization, Enterprise, Person, User
from yiwang.accounts.roles import RealNameLevel, Role
from yiwang.core import crypto
from yiwang.core.errors import Conflict, PermissionDenied, ValidationFailed
from yiwang.core.ids import make_credit_code
from yiwang.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_declare_identity_stores_hash_ciphertext_and_mask():
    user = UserFactory()
    number = resident_id(birth="19900307")
    p = services.person_declare_identity(actor=user, real_name="张三", id_number=number)
    assert p.id_hash == crypto.keyed_hash(number)
    assert number not in p.id_hash and number not in p.id_encrypted
    assert crypto.decrypt(p.id_encrypted) == number
    assert p.id_masked == number[:4] + "*" * 10 + number[-4:]
    assert p.birth_date == dt.date(1990, 3, 7)
    assert p.real_name_level == RealNameLevel.L2
    event = AuditEvent.objects.get(action="accounts.identity_declared")
    assert number not in str(event.summary)


def test_invalid_id_number_is_rejected_and_nothing_written():
    user = UserFactory()
    with pytest.raises(ValidationFailed) as exc:
        services.person_declare_identity(actor=user, real_name="张三", id_number="440106199003071230")
    assert exc.value.code == "invalid_resident_id"
    assert not Person.objects.exists()
    assert not AuditEvent.objects.exists()


def test_id_number_bound_to_another_account_is_a_conflict():
    number = resident_id()
    person(id_number=number)
    with pytest.raises(Conflict):
        services.person_declare_identity(actor=UserFactory(), real_name="李四", id_number=number)


def test_staff_cannot_declare_a_person_identity(geo):
    clerk = staff(Role.WINDOW_CLERK, DepartmentFactory(region=geo.th))
    with pytest.raises(PermissionDenied):
        services.person_declare_identity(actor=clerk, real_name="张三", id_number=resident_id())


def test_window_registration_creates_a_level_five_person(geo):
    clerk = staff(Role.WINDOW_CLERK, DepartmentFactory(region=geo.th))
    number = resident_id()
    user = services.person_register_at_window(actor=clerk, real_name="王五", id_number=number, phone="13900139000")
    assert user.person.real_name_level == RealNameLevel.L5
    assert user.phone == "13900139000"
    again = services.person_register_at_window(actor=clerk, real_name="王五", id_number=number)
    assert again.pk == user.pk
    found = services.person_find_by_id_number(actor=clerk, id_number=number)
    assert found.user_id == user.pk


def test_window_registration_needs_a_window_role(geo):
    reviewer = staff(Role.REVIEWER, DepartmentFactory(region=geo.th))
    with pytest.raises(PermissionDenied):
        services.person_register_at_window(actor=reviewer, real_name="王五", id_number=resident_id())


def test_enterprise_registration_validates_the_credit_code():
    p = person()
    with pytest.raises(ValidationFailed) as exc:
        services.enterprise_register(
            actor=p.user, name="某公司", credit_code="91440300708461136X", legal_rep_name="张三"
        )
    assert exc.value.code == "invalid_credit_code"
    assert not Enterprise.objects.exists() and not User.objects.filter(kind=User.Kind.ENTERPRISE).exists()


def test_enterprise_registration_makes_the_registrant_an_agent():
    p = person(name="张三")
    code = make_credit_code("91440106MA59TEPT1")
    ent = services.enterprise_register(actor=p.user, name="某餐饮公司", credit_code=code, legal_rep_name="张三")
    grant = Authorization.objects.get(principal=ent.user, agent=p.user)
    assert grant.scopes == ["*"] and grant.valid_until is not None
    assert selectors.authorization_for(agent=p.user, principal=ent.user, action="case.apply") == grant
    with pytest.raises(Conflict):
        services.enterprise_register(actor=p.user, name="重复", credit_code=code, legal_rep_name="张三")


def test_legal_representative_gets_an_unlimited_authorisation():
    number = resident_id()
    p = person(name="张三", id_number=number)
    ent = services.enterprise_register(
        actor=p.user,
        name="某公司",
        credit_code=make_credit_code("91440106MA59TEPT2"),
        legal_rep_name="张三",
        legal_rep_id_number=number,
    )
    assert Authorization.objects.get(principal=ent.user).valid_until is None


def test_authorisation_scope_and_validity():
    principal, agent = person(name="甲").user, person(name="乙").user
    now = timezone.now()
    grant = services.authorization_grant(
        actor=principal,
        principal=principal,
        agent=agent,
        kind="personal_proxy",
        scopes=["case.apply"],
        valid_until=now + dt.timedelta(days=1),
    )
    assert selectors.authorization_for(agent=agent, principal=principal, action="case.apply")
    assert not selectors.authorization_for(agent=agent, principal=principal, action="case.withdraw")
    later = now + dt.timedelta(days=2)
    assert not selectors.authorization_for(agent=agent, principal=principal, action="case.apply", when=later)
    services.authorization_revoke(actor=principal, authorization_id=grant.pk)
    assert not selectors.authorization_for(agent=agent, principal=principal, action="case.apply")


def test_expired_authorisation_is_refused():
    principal, agent = person(name="甲").user, person(name="乙").user
    past = timezone.now() - dt.timedelta(days=10)
    Authorization.objects.create(
        principal=principal,
        agent=agent,
        kind="personal_proxy",
        scopes=["*"],
        valid_from=past,
        valid_until=past + dt.timedelta(days=1),
    )
    assert selectors.authorization_for(agent=agent, principal=principal, action="case.apply") is None


def test_item_limited_authorisation():
    principal, agent = person(name="甲").user, person(name="乙").user
    Authorization.objects.create(
        principal=principal, agent=agent, kind="personal_proxy", scopes=["*"], item_codes=["ITEM-1"]
    )
    assert selectors.authorization_for(agent=agent, principal=principal, action="case.apply", item_code="ITEM-1")
    assert not selectors.authorization_for(agent=agent, principal=principal, action="case.apply", item_code="ITEM-2")


@pytest.mark.parametrize(
    ("scopes", "code"),
    [([], "invalid_scope"), (["delete.everything"], "invalid_scope")],
)
def test_bad_authorisation_requests(scopes, code):
    principal, agent = person(name="甲").user, person(name="乙").user
    with pytest.raises(ValidationFailed) as exc:
        services.authorization_grant(
            actor=principal, principal=principal, agent=agent, kind="personal_proxy", scopes=scopes
        )
    assert exc.value.code == code


def test_only_the_principal_grants():
    principal, agent, stranger = person(name="甲").user, person(name="乙").user, person(name="丙").user
    with pytest.raises(PermissionDenied):
        services.authorization_grant(
            actor=stranger, principal=principal, agent=agent, kind="personal_proxy", scopes=["case.apply"]
        )


def test_agent_must_be_a_real_named_person():
    principal = person(name="甲").user
    with pytest.raises(ValidationFailed):
        services.authorization_grant(
            actor=principal, principal=principal, agent=UserFactory(), kind="personal_proxy", scopes=["case.apply"]
        )


def test_membership_scope_may_only_narrow(geo, system):
    dept = DepartmentFactory(region=geo.th)
    user = StaffFactory()
    m = services.membership_grant(
        actor=system, user=user, department_id=dept.pk, role=Role.REVIEWER, region_code="440106001000"
    )
    assert m.region_id == "440106001000"
    with pytest.raises(ValidationFailed):
        services.membership_grant(
            actor=system, user=user, department_id=dept.pk, role=Role.REVIEWER, region_code="440104000000"
        )
    with pytest.raises(ValidationFailed):
        services.membership_grant(actor=system, user=UserFactory(), department_id=dept.pk, role=Role.REVIEWER)


def test_membership_grant_is_scoped_for_supervisors(geo):
    th, yx = DepartmentFactory(region=geo.th), DepartmentFactory(region=geo.yx)
    sup = staff(Role.SUPERVISOR, th)
    user = StaffFactory()
    services.membership_grant(actor=sup, user=user, department_id=th.pk, role=Role.WINDOW_CLERK)
    with pytest.raises(PermissionDenied):
        services.membership_grant(actor=sup, user=user, department_id=yx.pk, role=Role.WINDOW_CLERK)


def test_api_tokens_are_hashed_and_revocable():
    user = UserFactory()
    token, plain = services.api_token_create(actor=user, name="脚本")
    assert plain.startswith("yw_") and plain not in token.key_hash
    assert services.api_token_user(plain) == user
    assert services.api_token_user(plain + "x") is None
    services.api_token_revoke(actor=user, token_id=token.pk)
    assert services.api_token_user(plain) is None


def test_a_token_is_remembered_with_the_users_memberships(django_assert_num_queries):
    dept = DepartmentFactory()
    user = staff(Role.WINDOW_CLERK, dept)
    _, plain = services.api_token_create(actor=user, name="脚本")
    first = services.api_token_user(plain)
    with django_assert_num_queries(0):
        second = services.api_token_user(plain)
        assert [m.role for m in selectors.memberships(second)] == [Role.WINDOW_CLERK]
    assert first == second == user and first is not second  # each request gets its own copy
    selectors.forget_memberships(second)
    assert selectors.memberships(services.api_token_user(plain))  # the remembered user keeps its list


def test_remembered_tokens_are_forgotten_on_changes_in_this_process():
    dept = DepartmentFactory()
    user = staff(Role.WINDOW_CLERK, dept)
    token, plain = services.api_token_create(actor=user, name="脚本")
    assert services.api_token_user(plain) == user
    user.memberships.get().delete()  # a membership change applies at once
    assert selectors.memberships(services.api_token_user(plain)) == []
    user.is_active = False
    user.save()
    assert services.api_token_user(plain) is None
    user.is_active = True
    user.save()
    services.api_token_revoke(actor=user, token_id=token.pk)
    assert services.api_token_user(plain) is None


def test_another_processs_revocation_applies_within_the_ttl(monkeypatch, settings):
    user = UserFactory()
    token, plain = services.api_token_create(actor=user, name="脚本")
    assert services.api_token_user(plain) == user
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())  # no signal here: another process
    assert services.api_token_user(plain) == user  # still remembered…
    later = services.time.monotonic() + settings.API_TOKEN_CACHE_SECONDS + 0.1
    monkeypatch.setattr(services.time, "monotonic", lambda: later)
    assert services.api_token_user(plain) is None  # …until the TTL has passed


def test_expiry_is_checked_on_remembered_tokens(django_assert_num_queries):
    user = UserFactory()
    token, plain = services.api_token_create(actor=user, name="x", ttl_days=1)
    assert services.api_token_user(plain) == user
    past = timezone.now() - dt.timedelta(seconds=1)  # as if the day had passed while it was remembered
    ApiToken.objects.filter(pk=token.pk).update(expires_at=past)
    until, _, remembered = services._tokens[services.token_hash(plain)]
    services._tokens[services.token_hash(plain)] = (until, past, remembered)
    with django_assert_num_queries(1):  # not served from memory
        assert services.api_token_user(plain) is None


def test_tokens_are_looked_up_every_time_without_a_ttl(settings, django_assert_num_queries):
    settings.API_TOKEN_CACHE_SECONDS = 0
    user = UserFactory()
    _, plain = services.api_token_create(actor=user, name="x")
    services.api_token_user(plain)
    with django_assert_num_queries(1):
        assert services.api_token_user(plain) == user


def test_expired_token_is_refused():
    user = UserFactory()
    token, plain = services.api_token_create(actor=user, name="x", ttl_days=1)
    token.expires_at = timezone.now() - dt.timedelta(seconds=1)
    token.save()
    assert services.api_token_user(plain) is None
