"""Login: passwords, TOTP, phone codes, throttling."""

import re

import pyotp
import pytest
from django.test import override_settings

from tests.factories import PASSWORD, StaffFactory, UserFactory
from yiwang.accounts import services, sms
from yiwang.accounts.models import User
from yiwang.core import crypto
from yiwang.core.errors import Throttled, ValidationFailed
from yiwang.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_password_login_and_failure_audit():
    user = StaffFactory(username="li")
    assert services.login_password(username="LI", password=PASSWORD, ip="1.2.3.4").user == user
    with pytest.raises(ValidationFailed) as exc:
        services.login_password(username="li", password="wrong", ip="1.2.3.4")
    assert exc.value.status == 401 and exc.value.code == "login_failed"
    assert AuditEvent.objects.filter(action="accounts.login_failed").count() == 1


def test_unknown_user_and_wrong_password_look_the_same():
    StaffFactory(username="li")
    messages = set()
    for username in ("li", "nobody"):
        with pytest.raises(ValidationFailed) as exc:
            services.login_password(username=username, password="wrong", ip=None)
        messages.add((exc.value.code, exc.value.message))
    assert len(messages) == 1


@override_settings(LOGIN_MAX_FAILURES=3)
def test_too_many_failures_lock_the_account():
    StaffFactory(username="li")
    for _ in range(3):
        with pytest.raises(ValidationFailed):
            services.login_password(username="li", password="wrong", ip="1.1.1.1")
    with pytest.raises(Throttled):
        services.login_password(username="li", password=PASSWORD, ip="1.1.1.1")


@override_settings(LOGIN_MAX_FAILURES=2)
def test_many_failures_from_one_address_lock_that_address():
    for i in range(8):
        StaffFactory(username=f"u{i}")
        with pytest.raises(ValidationFailed):
            services.login_password(username=f"u{i}", password="wrong", ip="9.9.9.9")
    StaffFactory(username="fresh")
    with pytest.raises(Throttled):
        services.login_password(username="fresh", password=PASSWORD, ip="9.9.9.9")
    assert services.login_password(username="fresh", password=PASSWORD, ip="8.8.8.8").user.username == "fresh"


def test_totp_is_required_once_enabled():
    user = StaffFactory(username="ops")
    uri = services.totp_begin(actor=user)
    secret = pyotp.parse_uri(uri).secret
    with pytest.raises(ValidationFailed):
        services.totp_confirm(actor=user, code="000000")
    services.totp_confirm(actor=user, code=pyotp.TOTP(secret).now())
    user.refresh_from_db()
    assert user.totp_enabled and secret not in user.totp_secret
    step = services.login_password(username="ops", password=PASSWORD, ip=None)
    assert step.needs_totp
    with pytest.raises(ValidationFailed):
        services.login_totp(user=user, code="123456" if pyotp.TOTP(secret).now() != "123456" else "654321", ip=None)
    assert services.login_totp(user=user, code=pyotp.TOTP(secret).now(), ip=None) == user
    assert crypto.decrypt(user.totp_secret) == secret


def _code_from_outbox() -> str:
    return re.search(r"验证码为 (\d{6})", sms.outbox[-1].text).group(1)


def test_phone_login_registers_a_person(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.otp_send(phone="13912345678", ip="1.1.1.1")
    assert sms.outbox[-1].phone == "13912345678"
    user = services.login_phone(phone="13912345678", code=_code_from_outbox(), ip="1.1.1.1")
    assert user.kind == User.Kind.PERSON and user.phone == "13912345678"
    assert AuditEvent.objects.filter(action="accounts.register").count() == 1


def test_phone_code_is_single_use(django_capture_on_commit_callbacks):
    UserFactory(phone="13912345678")
    with django_capture_on_commit_callbacks(execute=True):
        services.otp_send(phone="13912345678")
    code = _code_from_outbox()
    services.login_phone(phone="13912345678", code=code)
    with pytest.raises(ValidationFailed):
        services.login_phone(phone="13912345678", code=code)


def test_wrong_phone_code_counts_attempts(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.otp_send(phone="13912345678")
    good = _code_from_outbox()
    bad = "000000" if good != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(ValidationFailed):
            services.login_phone(phone="13912345678", code=bad)
    with pytest.raises((ValidationFailed, Throttled)):
        services.login_phone(phone="13912345678", code=good)


@override_settings(OTP_MAX_PER_PHONE_PER_HOUR=2)
def test_code_sending_is_rate_limited():
    services.otp_send(phone="13912345678")
    services.otp_send(phone="13912345678")
    with pytest.raises(ValidationFailed) as exc:
        services.otp_send(phone="13912345678")
    assert exc.value.code == "otp_throttled"


def test_invalid_phone_is_rejected():
    with pytest.raises(ValidationFailed) as exc:
        services.otp_send(phone="12345")
    assert exc.value.code == "invalid_phone"


def test_staff_cannot_use_phone_login(django_capture_on_commit_callbacks):
    StaffFactory(phone="13912345678")
    with django_capture_on_commit_callbacks(execute=True):
        services.otp_send(phone="13912345678")
    with pytest.raises(ValidationFailed) as exc:
        services.login_phone(phone="13912345678", code=_code_from_outbox())
    assert exc.value.code == "staff_use_password"
