"""API: login tokens, the current user, real-name identity, enterprises, authorisations, window registration."""

from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema, Status
from pydantic import Field

from yiwang.core import crypto
from yiwang.core.api import with_errors
from yiwang.core.errors import NotFound, ValidationFailed
from yiwang.core.ids import validate_mobile, validate_resident_id
from yiwang.core.middleware import client_ip

from . import selectors, services
from .models import Authorization, Person, User
from .roles import Role

router = Router(tags=["用户 accounts"])


class TokenIn(Schema):
    username: str | None = Field(None, max_length=150, description="工作人员账号")
    password: str | None = Field(None, max_length=200)
    totp: str | None = Field(None, max_length=10, description="已启用动态口令时必填")
    phone: str | None = Field(None, max_length=20, description="个人：手机号（配合 code）")
    code: str | None = Field(None, max_length=10, description="短信验证码")
    name: str = Field("api", max_length=100)


class TokenOut(Schema):
    token: str
    expires_at: dt.datetime | None


class OtpIn(Schema):
    phone: str = Field(max_length=20)


class SentOut(Schema):
    sent: bool


@router.post("/auth/otp", response=with_errors({202: SentOut}, 422, 429), auth=None, summary="发送短信验证码")
def send_otp(request, payload: OtpIn):
    services.otp_send(phone=payload.phone, ip=client_ip(request))
    return Status(202, {"sent": True})


@router.post("/auth/token", response=with_errors({201: TokenOut}, 401, 422, 429), auth=None, summary="获取API令牌")
def create_token(request, payload: TokenIn):
    ip = client_ip(request)
    if payload.phone:
        user = services.login_phone(phone=payload.phone, code=payload.code or "", ip=ip)
        method = "phone"
    elif payload.username:
        step = services.login_password(username=payload.username, password=payload.password or "", ip=ip)
        user = services.login_totp(user=step.user, code=payload.totp or "", ip=ip) if step.needs_totp else step.user
        method = "password+totp" if step.needs_totp else "password"
    else:
        raise ValidationFailed("请提供账号密码或手机号验证码。", code="credentials_required")
    services.login_succeeded(user=user, method=f"api:{method}")
    token, plain = services.api_token_create(actor=user, name=payload.name)
    return Status(201, {"token": plain, "expires_at": token.expires_at})


class PersonOut(Schema):
    real_name: str
    id_masked: str
    real_name_level: int
    verified_by: str


class MembershipOut(Schema):
    department_id: int
    department_name: str = Field(alias="department.name")
    role: str
    role_name: str = Field(alias="get_role_display")
    region_code: str = Field(alias="region_id")


class PrincipalOut(Schema):
    authorization_id: int = Field(alias="id")
    principal_id: int
    principal_name: str = Field(alias="principal.__str__")
    kind: str
    scopes: list[str]
    valid_until: dt.datetime | None


class MeOut(Schema):
    id: int
    username: str
    kind: str
    display_name: str
    phone: str
    person: PersonOut | None
    memberships: list[MembershipOut]
    acting_for: list[PrincipalOut]


def _me(user: User) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "kind": user.kind,
        "display_name": str(user),
        "phone": user.masked_phone,
        "person": getattr(user, "person", None),
        "memberships": selectors.memberships(user),
        "acting_for": list(selectors.active_authorizations(agent=user)),
    }


@router.get("/me", response=with_errors(MeOut, 401), summary="当前用户")
def me(request):
    return _me(request.auth)


class IdentityIn(Schema):
    real_name: str = Field(max_length=50)
    id_number: str = Field(max_length=30)


@router.post("/me/identity", response=with_errors(PersonOut), summary="实名登记（姓名与身份证号）")
def declare_identity(request, payload: IdentityIn):
    return services.person_declare_identity(
        actor=request.auth, real_name=payload.real_name, id_number=payload.id_number
    )


class EnterpriseIn(Schema):
    name: str = Field(max_length=200)
    credit_code: str = Field(max_length=30)
    legal_rep_name: str = Field(max_length=50)
    legal_rep_id_number: str = Field("", max_length=30)
    region_code: str = Field("", max_length=12)
    address: str = Field("", max_length=300)


class EnterpriseOut(Schema):
    id: int
    name: str
    credit_code: str
    legal_rep_name: str
    account_id: int = Field(alias="user_id")


@router.post("/enterprises", response=with_errors({201: EnterpriseOut}), summary="法人注册")
def register_enterprise(request, payload: EnterpriseIn):
    return Status(201, services.enterprise_register(actor=request.auth, **payload.dict()))


class AuthorizationIn(Schema):
    principal_id: int | None = Field(None, description="委托人（默认本人；法人经办人可代法人授权）")
    agent_id_number: str = Field(max_length=30, description="受托人身份证号")
    kind: str = Field(description="enterprise_agent | personal_proxy | hall_helper")
    scopes: list[str] = Field(description="授权范围，如 case.apply、case.view 或 *")
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    item_codes: list[str] = Field(default_factory=list)


class AuthorizationOut(Schema):
    id: int
    principal_id: int
    agent_id: int
    kind: str
    scopes: list[str]
    item_codes: list[str]
    valid_from: dt.datetime
    valid_until: dt.datetime | None
    revoked_at: dt.datetime | None


class AuthorizationLists(Schema):
    given: list[AuthorizationOut]
    received: list[AuthorizationOut]


@router.get("/authorizations", response=with_errors(AuthorizationLists, 401), summary="我的授权（委托与受托）")
def authorizations(request):
    user = request.auth
    return {
        "given": list(Authorization.objects.filter(principal=user).order_by("-id")[:200]),
        "received": list(Authorization.objects.filter(agent=user).order_by("-id")[:200]),
    }


@router.post("/authorizations", response=with_errors({201: AuthorizationOut}), summary="授权经办人/代理人")
def grant_authorization(request, payload: AuthorizationIn):
    number = validate_resident_id(payload.agent_id_number)
    agent = Person.objects.select_related("user").filter(id_hash=crypto.keyed_hash(number)).first()
    if agent is None:
        raise NotFound("未找到该身份证号对应的实名用户。", code="agent_not_found")
    principal = request.auth
    if payload.principal_id is not None and payload.principal_id != request.auth.pk:
        principal = User.objects.filter(pk=payload.principal_id).first()
        if principal is None:
            raise NotFound("委托人不存在。", code="principal_not_found")
    grant = services.authorization_grant(
        actor=request.auth,
        principal=principal,
        agent=agent.user,
        kind=payload.kind,
        scopes=payload.scopes,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
        item_codes=payload.item_codes,
    )
    return Status(201, grant)


@router.delete("/authorizations/{authorization_id}", response=with_errors(AuthorizationOut), summary="撤销授权")
def revoke_authorization(request, authorization_id: int):
    return services.authorization_revoke(actor=request.auth, authorization_id=authorization_id)


class WindowPersonIn(Schema):
    real_name: str = Field(max_length=50)
    id_number: str = Field(max_length=30)
    phone: str = Field("", max_length=20)


class PersonRefOut(Schema):
    user_id: int
    real_name: str
    id_masked: str
    real_name_level: int
    phone: str


def _person_ref(person: Person) -> dict:
    return {
        "user_id": person.user_id,
        "real_name": person.real_name,
        "id_masked": person.id_masked,
        "real_name_level": person.real_name_level,
        "phone": person.user.masked_phone,
    }


@router.post("/persons", response=with_errors({201: PersonRefOut}), summary="窗口实名注册（综窗受理员）")
def register_person(request, payload: WindowPersonIn):
    if payload.phone:
        validate_mobile(payload.phone)
    user = services.person_register_at_window(
        actor=request.auth, real_name=payload.real_name, id_number=payload.id_number, phone=payload.phone
    )
    return Status(201, _person_ref(user.person))


class LookupQuery(Schema):
    id_number: str = Field(max_length=30)


@router.get("/persons/lookup", response=with_errors(PersonRefOut), summary="按身份证号查找申请人（窗口）")
def lookup_person(request, query: Query[LookupQuery]):
    person = services.person_find_by_id_number(actor=request.auth, id_number=query.id_number)
    if person is None:
        raise NotFound("未找到该身份证号对应的用户，可现场注册。", code="person_not_found")
    return _person_ref(person)


class RoleOut(Schema):
    value: str
    label: str


@router.get("/roles", response=with_errors(list[RoleOut]), auth=None, summary="岗位角色列表")
def roles(request):
    return [{"value": r.value, "label": r.label} for r in Role]
