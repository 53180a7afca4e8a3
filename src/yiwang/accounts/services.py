"""Writes about accounts: login, one-time codes, real-name identity, enterprises, authorisations, staff."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyotp
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from yiwang.core import audit, crypto
from yiwang.core.actions import action, lock, on_commit
from yiwang.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from yiwang.core.ids import mask_resident_id, validate_credit_code, validate_mobile, validate_resident_id
from yiwang.core.permissions import policy
from yiwang.directory import codes
from yiwang.directory.models import Department, Region

from . import selectors, sms, throttle
from .models import ApiToken, Authorization, Enterprise, OneTimeCode, Person, StaffMembership, User
from .roles import RealNameLevel, Role

# --- password and TOTP login -------------------------------------------------------------------------


class LoginFailed(ValidationFailed):
    status = 401
    default_code = "login_failed"
    default_message = "账号或密码错误。"


@dataclass(frozen=True)
class LoginStep:
    user: User
    needs_totp: bool


def login_password(*, username: str, password: str, ip: str | None) -> LoginStep:
    """账号密码登录 (first step). Failures are counted for throttling and audited."""
    username = (username or "").strip()
    key = f"user:{username.lower()}"
    throttle.check(key, ip)
    user = User.objects.filter(username__iexact=username, is_active=True).first()
    if user is None or not user.check_password(password or ""):
        throttle.fail(key, ip)
        audit.record(
            actor=None,
            action="accounts.login_failed",
            object_type="accounts.user",
            summary={"username": username[:50], "method": "password"},
        )
        raise LoginFailed()
    if not user.totp_enabled:
        throttle.clear(key)
    return LoginStep(user=user, needs_totp=user.totp_enabled)


def login_totp(*, user: User, code: str, ip: str | None) -> User:
    """动态口令 — the second step for staff with TOTP enabled."""
    key = f"user:{user.username.lower()}"
    throttle.check(key, ip)
    if not user.totp_enabled or not _totp(user).verify((code or "").strip(), valid_window=1):
        throttle.fail(key, ip)
        audit.record(actor=None, action="accounts.login_failed", obj=user, summary={"method": "totp"})
        raise LoginFailed("动态口令错误或已过期。", code="totp_invalid")
    throttle.clear(key)
    return user


def login_succeeded(*, user: User, method: str) -> None:
    audit.record(actor=user, action="accounts.login", obj=user, summary={"method": method})


def _totp(user: User) -> pyotp.TOTP:
    return pyotp.TOTP(crypto.decrypt(user.totp_secret))


@action
def totp_begin(*, actor: User) -> str:
    """Start enabling TOTP: store a new secret (not yet active) and return its provisioning URI."""
    user = lock(User.objects.filter(pk=actor.pk))
    policy.require(actor, "accounts.totp.manage", user)
    secret = pyotp.random_base32()
    user.totp_secret = crypto.encrypt(secret)
    user.totp_enabled = False
    user.save(update_fields=["totp_secret", "totp_enabled"])
    audit.record(actor=actor, action="accounts.totp_begin", obj=user)
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="一网 yiwang")


@action
def totp_confirm(*, actor: User, code: str) -> None:
    user = lock(User.objects.filter(pk=actor.pk))
    policy.require(actor, "accounts.totp.manage", user)
    if not user.totp_secret or not _totp(user).verify((code or "").strip(), valid_window=1):
        raise ValidationFailed("动态口令错误，请重新输入。", code="totp_invalid")
    user.totp_enabled = True
    user.save(update_fields=["totp_enabled"])
    audit.record(actor=actor, action="accounts.totp_enabled", obj=user)


@action
def totp_disable(*, actor: User) -> None:
    user = lock(User.objects.filter(pk=actor.pk))
    policy.require(actor, "accounts.totp.manage", user)
    user.totp_secret, user.totp_enabled = "", False
    user.save(update_fields=["totp_secret", "totp_enabled"])
    audit.record(actor=actor, action="accounts.totp_disabled", obj=user)


# --- phone one-time codes ----------------------------------------------------------------------------


def _code_hash(phone: str, code: str) -> str:
    return crypto.keyed_hash(f"otp:{phone}:{code}")


def otp_send(*, phone: str, purpose: str = "login", ip: str | None = None) -> None:
    """发送短信验证码. At most ``OTP_MAX_PER_PHONE_PER_HOUR`` per number per hour."""
    phone = validate_mobile(phone)
    since = timezone.now() - dt.timedelta(hours=1)
    if OneTimeCode.objects.filter(phone=phone, created_at__gte=since).count() >= settings.OTP_MAX_PER_PHONE_PER_HOUR:
        raise ValidationFailed("验证码发送过于频繁，请稍后再试。", code="otp_throttled")
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        OneTimeCode.objects.create(
            phone=phone,
            purpose=purpose,
            code_hash=_code_hash(phone, code),
            expires_at=timezone.now() + dt.timedelta(seconds=settings.OTP_TTL_SECONDS),
        )
        minutes = settings.OTP_TTL_SECONDS // 60
        text = f"【一网通办】您的验证码为 {code}，{minutes} 分钟内有效。请勿泄露给他人。"
        on_commit(lambda: sms.send_sms(phone, text))


def otp_verify(*, phone: str, code: str, purpose: str = "login", ip: str | None = None) -> str:
    """Check a code (single use, 5 attempts); return the normalised phone number."""
    phone = validate_mobile(phone)
    key = f"phone:{phone}"
    throttle.check(key, ip)
    now = timezone.now()
    otp = (
        OneTimeCode.objects.filter(phone=phone, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    if otp is None or otp.attempts >= 5:
        throttle.fail(key, ip)
        raise LoginFailed("验证码已失效，请重新获取。", code="otp_expired")
    if not hmac.compare_digest(otp.code_hash, _code_hash(phone, (code or "").strip())):
        OneTimeCode.objects.filter(pk=otp.pk).update(attempts=otp.attempts + 1)
        throttle.fail(key, ip)
        raise LoginFailed("验证码错误。", code="otp_invalid")
    if OneTimeCode.objects.filter(pk=otp.pk, used_at__isnull=True).update(used_at=now) != 1:
        raise LoginFailed("验证码已使用。", code="otp_expired")
    throttle.clear(key)
    return phone


def login_phone(*, phone: str, code: str, ip: str | None = None) -> User:
    """短信验证码登录 for persons; the first login registers a person account (实名等级二级 until verified)."""
    phone = otp_verify(phone=phone, code=code, ip=ip)
    user = User.objects.filter(phone=phone).first()
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(f"m{phone}", None, phone=phone, kind=User.Kind.PERSON)
                audit.record(actor=user, action="accounts.register", obj=user, summary={"method": "phone"})
        except IntegrityError:
            user = User.objects.get(phone=phone)
    if not user.is_active:
        raise LoginFailed("账号已停用。", code="account_disabled")
    if user.kind == User.Kind.STAFF:
        raise LoginFailed("工作人员请使用账号密码登录。", code="staff_use_password")
    return user


# --- real-name identity ------------------------------------------------------------------------------


def _id_fields(number: str) -> dict[str, Any]:
    return {
        "id_hash": crypto.keyed_hash(number),
        "id_encrypted": crypto.encrypt(number),
        "id_masked": mask_resident_id(number),
        "birth_date": dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
        "gender": "M" if int(number[16]) % 2 else "F",
    }


def _clean_name(real_name: str) -> str:
    name = (real_name or "").strip()
    if not (2 <= len(name) <= 50):
        raise ValidationFailed("请输入2至50个字符的真实姓名。", code="invalid_name")
    return name


@action
def person_declare_identity(*, actor: User, real_name: str, id_number: str) -> Person:
    """实名登记 — a person states name and ID number (二级; 三级 once an identity source confirms it)."""
    policy.require(actor, "accounts.identity.declare", actor)
    number = validate_resident_id(id_number)
    name = _clean_name(real_name)
    user = lock(User.objects.filter(pk=actor.pk))
    fields = _id_fields(number)
    other = Person.objects.filter(id_hash=fields["id_hash"]).exclude(user=user).exists()
    if other:
        raise Conflict("该身份证号已绑定其他账号，如有疑问请到窗口办理。", code="id_number_taken")
    person, created = Person.objects.update_or_create(
        user=user,
        defaults={"real_name": name, "real_name_level": RealNameLevel.L2, "verified_by": "自主申报", **fields},
    )
    user.display_name = name
    user.save(update_fields=["display_name"])
    audit.record(
        actor=actor,
        action="accounts.identity_declared",
        obj=person,
        summary={"id": fields["id_masked"], "created": created},
    )
    return person


@action
def person_register_at_window(*, actor: User, real_name: str, id_number: str, phone: str = "") -> User:
    """窗口实名注册 — a clerk registers (or upgrades to 五级) a person shown in person with an ID card."""
    policy.require(actor, "accounts.person.register_at_window")
    number = validate_resident_id(id_number)
    name = _clean_name(real_name)
    phone = validate_mobile(phone) if phone else ""
    fields = _id_fields(number)
    person = Person.objects.select_for_update().select_related("user").filter(id_hash=fields["id_hash"]).first()
    now = timezone.now()
    if person is None:
        if phone and User.objects.filter(phone=phone).exists():
            raise Conflict("该手机号已注册，请让申请人用手机号登录后实名。", code="phone_taken")
        user = User.objects.create_user(
            f"p{fields['id_hash'][:16]}", None, phone=phone or None, kind=User.Kind.PERSON, display_name=name
        )
        person = Person.objects.create(
            user=user,
            real_name=name,
            real_name_level=RealNameLevel.L5,
            verified_at=now,
            verified_by="窗口现场核验",
            **fields,
        )
        created = True
    else:
        user = person.user
        person.real_name, person.real_name_level = name, RealNameLevel.L5
        person.verified_at, person.verified_by = now, "窗口现场核验"
        person.save()
        created = False
    audit.record(
        actor=actor,
        action="accounts.person_registered_at_window",
        obj=person,
        summary={"id": fields["id_masked"], "created": created},
    )
    return user


def person_find_by_id_number(*, actor: User, id_number: str) -> Person | None:
    """按身份证号查找 (window clerks). Validates the number first; the look-up is audited."""
    policy.require(actor, "accounts.person.lookup")
    number = validate_resident_id(id_number)
    person = Person.objects.select_related("user").filter(id_hash=crypto.keyed_hash(number)).first()
    audit.record(
        actor=actor,
        action="accounts.person_lookup",
        object_type="accounts.person",
        object_id=person.pk if person else None,
        summary={"id": mask_resident_id(number), "found": bool(person)},
    )
    return person


# --- enterprises and authorisations ------------------------------------------------------------------


@action
def enterprise_register(
    *,
    actor: User,
    name: str,
    credit_code: str,
    legal_rep_name: str,
    legal_rep_id_number: str = "",
    region_code: str = "",
    address: str = "",
) -> Enterprise:
    """法人注册 — a real-named person registers an enterprise and becomes its 经办人 (one year)."""
    policy.require(actor, "accounts.enterprise.register")
    code = validate_credit_code(credit_code)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed("请填写法人名称（不超过200字）。", code="invalid_name")
    rep_name = _clean_name(legal_rep_name)
    rep_fields: dict[str, str] = {}
    if legal_rep_id_number:
        number = validate_resident_id(legal_rep_id_number)
        rep_fields = {
            "legal_rep_id_hash": crypto.keyed_hash(number),
            "legal_rep_id_encrypted": crypto.encrypt(number),
            "legal_rep_id_masked": mask_resident_id(number),
        }
    region = None
    if region_code:
        codes.validate(region_code)
        region = Region.objects.filter(code=region_code).first()
        if region is None:
            raise ValidationFailed("登记地区划不存在。", code="region_not_found")
    if Enterprise.objects.filter(credit_code=code).exists():
        raise Conflict("该统一社会信用代码已注册，请联系法人管理员授权。", code="enterprise_exists")
    account = User.objects.create_user(f"e{code}", None, kind=User.Kind.ENTERPRISE, display_name=name)
    enterprise = Enterprise.objects.create(
        user=account,
        name=name,
        credit_code=code,
        legal_rep_name=rep_name,
        region=region,
        address=address.strip(),
        **rep_fields,
    )
    is_rep = bool(rep_fields) and rep_fields["legal_rep_id_hash"] == getattr(
        getattr(actor, "person", None), "id_hash", None
    )
    Authorization.objects.create(
        principal=account,
        agent=actor,
        kind=Authorization.Kind.ENTERPRISE_AGENT,
        scopes=["*"],
        valid_until=None if is_rep else timezone.now() + dt.timedelta(days=365),
        note="法定代表人" if is_rep else "注册经办人",
    )
    audit.record(
        actor=actor,
        action="accounts.enterprise_registered",
        obj=enterprise,
        region_code=region.code if region else "",
        summary={"credit_code": code, "name": name},
    )
    return enterprise


AUTHORIZATION_SCOPES = [
    "*",
    "case.apply",
    "case.view",
    "case.supplement",
    "case.withdraw",
    "case.receive",
    "rating.submit",
]


@action
def authorization_grant(
    *,
    actor: User,
    principal: User,
    agent: User,
    kind: str,
    scopes: Iterable[str],
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    item_codes: Iterable[str] = (),
    note: str = "",
) -> Authorization:
    """授权经办人/代理人 — ``principal`` (or its 经办人 with full scope) authorises ``agent``."""
    acting_for_enterprise = principal.pk != actor.pk and selectors.authorization_for(
        agent=actor, principal=principal, action="*"
    )
    if not acting_for_enterprise:
        policy.require(actor, "accounts.authorization.grant", principal)
    if kind not in Authorization.Kind.values:
        raise ValidationFailed("授权类型无效。", code="invalid_choice", details={"field": "kind"})
    scopes = sorted(set(scopes))
    if not scopes or any(s not in AUTHORIZATION_SCOPES for s in scopes):
        raise ValidationFailed("授权范围无效。", code="invalid_scope", details={"allowed": AUTHORIZATION_SCOPES})
    if agent.pk == principal.pk:
        raise ValidationFailed("不能授权给自己。", code="invalid_agent")
    if agent.kind != User.Kind.PERSON or not hasattr(agent, "person"):
        raise ValidationFailed("受托人须为已实名的个人用户。", code="agent_not_real_named")
    start = valid_from or timezone.now()
    if valid_until is not None and valid_until <= start:
        raise ValidationFailed("失效时间须晚于生效时间。", code="invalid_validity")
    grant = Authorization.objects.create(
        principal=principal,
        agent=agent,
        kind=kind,
        scopes=scopes,
        item_codes=list(item_codes),
        valid_from=start,
        valid_until=valid_until,
        note=note[:200],
    )
    audit.record(
        actor=actor,
        action="accounts.authorization_granted",
        obj=grant,
        summary={
            "principal": principal.pk,
            "agent": agent.pk,
            "scopes": scopes,
            "valid_from": start,
            "valid_until": valid_until,
        },
    )
    return grant


@action
def authorization_revoke(*, actor: User, authorization_id: int) -> Authorization:
    grant = lock(Authorization.objects.filter(pk=authorization_id), missing="授权不存在。")
    policy.require(actor, "accounts.authorization.revoke", grant)
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action="accounts.authorization_revoked", obj=grant)
    return grant


# --- staff -------------------------------------------------------------------------------------------


@action
def staff_create(*, actor: Any, username: str, display_name: str, password: str, phone: str = "") -> User:
    """新增工作人员账号 (memberships are granted separately)."""
    if not (
        getattr(actor, "is_superuser", False)
        or selectors.has_role(actor, Role.SUPERVISOR)
        or getattr(actor, "is_system", False)
    ):
        raise PermissionDenied()
    username = (username or "").strip()
    if not username or User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed("账号为空或已存在。", code="username_taken")
    user = User.objects.create_user(
        username,
        password,
        display_name=display_name.strip(),
        kind=User.Kind.STAFF,
        phone=validate_mobile(phone) if phone else None,
    )
    audit.record(actor=actor, action="accounts.staff_created", obj=user, summary={"username": username})
    return user


@action
def membership_grant(
    *, actor: Any, user: User, department_id: int, role: str, region_code: str | None = None
) -> StaffMembership:
    """授予岗位 — the scope defaults to the department's region and may only narrow it."""
    department = Department.objects.select_related("region").filter(pk=department_id).first()
    if department is None:
        raise NotFound("部门不存在。", code="department_not_found")
    if role not in Role.values:
        raise ValidationFailed("角色无效。", code="invalid_choice", details={"field": "role"})
    region = department.region
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        if region is None or not codes.contains(department.region_id, region.code):
            raise ValidationFailed("数据范围须在部门所在区划之内。", code="invalid_scope")
    policy.require(actor, "accounts.staff.manage", region)
    if user.kind != User.Kind.STAFF:
        raise ValidationFailed("只能为工作人员账号授予岗位。", code="not_staff")
    membership, _ = StaffMembership.objects.update_or_create(
        user=user, department=department, role=role, defaults={"region": region, "is_active": True}
    )
    selectors.forget_memberships(user)
    audit.record(
        actor=actor,
        action="accounts.membership_granted",
        obj=membership,
        region_code=region.code,
        summary={"user": user.pk, "department": department.pk, "role": role, "region": region.code},
    )
    return membership


@action
def membership_revoke(*, actor: Any, membership_id: int) -> None:
    membership = lock(StaffMembership.objects.filter(pk=membership_id), missing="岗位不存在。")
    policy.require(actor, "accounts.staff.manage", membership.region)
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    audit.record(actor=actor, action="accounts.membership_revoked", obj=membership, region_code=membership.region_id)


# --- API tokens --------------------------------------------------------------------------------------

TOKEN_PREFIX = "yw_"  # noqa: S105 - a public prefix, not a secret


def token_hash(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


@action
def api_token_create(*, actor: User, name: str, ttl_days: int | None = 90) -> tuple[ApiToken, str]:
    """Create a bearer token; the plain value is returned once and never stored."""
    if not getattr(actor, "is_authenticated", False) or actor.pk is None:
        raise PermissionDenied()
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = timezone.now() + dt.timedelta(days=ttl_days) if ttl_days else None
    token = ApiToken.objects.create(
        user=actor, name=(name or "api")[:100], prefix=plain[:10], key_hash=token_hash(plain), expires_at=expires
    )
    audit.record(actor=actor, action="accounts.token_created", obj=token, summary={"name": token.name})
    return token, plain


@action
def api_token_revoke(*, actor: User, token_id: int) -> None:
    token = lock(ApiToken.objects.filter(pk=token_id, user_id=actor.pk), missing="令牌不存在。")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(actor=actor, action="accounts.token_revoked", obj=token)


_tokens: dict[str, tuple[float, dt.datetime | None, User]] = {}


def forget_api_tokens(**_kwargs: Any) -> None:
    """Drop the remembered bearer tokens of this process, now and once the current transaction commits
    (connected to changes of tokens, users and memberships; other processes forget within the TTL)."""
    _tokens.clear()
    transaction.on_commit(_tokens.clear)


def api_token_user(plain: str) -> User | None:
    """The active user behind a bearer token, or None.

    A process remembers a token's user, with the user's memberships, for ``settings.API_TOKEN_CACHE_SECONDS``
    (an API client sends many requests; two statements each were a quarter of an intake request's CPU). A
    revocation, a deactivation or a membership change made in this process applies at once, in another one
    within that time (docs/decisions/0012); expiry is checked on every request.
    """
    if not plain or not plain.startswith(TOKEN_PREFIX) or len(plain) > 100:
        return None
    now = timezone.now()
    key = token_hash(plain)
    ttl = settings.API_TOKEN_CACHE_SECONDS
    hit = _tokens.get(key) if ttl > 0 else None
    if hit is not None:
        until, expires_at, user = hit
        if time.monotonic() < until and not (expires_at and expires_at <= now):
            return _copy_user(user)
        _tokens.pop(key, None)
    token = ApiToken.objects.select_related("user").filter(key_hash=key, revoked_at__isnull=True).first()
    if token is None or (token.expires_at and token.expires_at <= now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    if ttl <= 0:
        return token.user
    user = token.user
    selectors.memberships(user)  # remembered with the user
    if len(_tokens) >= 10_000:
        _tokens.clear()
    _tokens[key] = (time.monotonic() + ttl, token.expires_at, user)
    return _copy_user(user)


def _copy_user(user: User) -> User:
    """A request's own copy of a remembered user (its state and its memberships list are not shared)."""
    mine = copy.copy(user)
    selectors.copy_memberships(user, mine)
    return mine


for _model in (ApiToken, User, StaffMembership):
    post_save.connect(forget_api_tokens, sender=_model, dispatch_uid=f"accounts-forget-tokens-save-{_model.__name__}")
    post_delete.connect(
        forget_api_tokens, sender=_model, dispatch_uid=f"accounts-forget-tokens-delete-{_model.__name__}"
    )
