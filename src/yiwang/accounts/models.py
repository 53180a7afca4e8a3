"""Users, persons (自然人), enterprises (法人), authorisations (授权委托/经办人) and staff memberships."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from yiwang.core.ids import mask_phone
from yiwang.directory.models import Department, Region

from .roles import RealNameLevel, Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **fields):
        if not username:
            raise ValueError("username is required")
        user = self.model(username=username, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **fields):
        fields.setdefault("kind", User.Kind.STAFF)
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(username, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """用户 — an account that logs in: a person (自然人), an enterprise (法人) or a staff member (工作人员)."""

    class Kind(models.TextChoices):
        PERSON = "person", "自然人"
        ENTERPRISE = "enterprise", "法人"
        STAFF = "staff", "工作人员"

    username = models.CharField("账号", max_length=150, unique=True)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices, default=Kind.PERSON)
    display_name = models.CharField("显示名称", max_length=100, blank=True)
    phone = models.CharField("手机号", max_length=20, unique=True, null=True, blank=True)
    email = models.EmailField("电子邮箱", blank=True)
    is_active = models.BooleanField("有效", default=True)
    is_staff = models.BooleanField("可登录管理后台", default=False)
    date_joined = models.DateTimeField("注册时间", default=timezone.now)
    totp_secret = models.CharField("TOTP密钥（加密）", max_length=200, blank=True)
    totp_enabled = models.BooleanField("已启用动态口令", default=False)

    objects = UserManager()
    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone or "")

    @property
    def is_person(self) -> bool:
        return self.kind == self.Kind.PERSON

    @property
    def is_enterprise(self) -> bool:
        return self.kind == self.Kind.ENTERPRISE

    @property
    def is_staff_member(self) -> bool:
        return self.kind == self.Kind.STAFF


class Person(models.Model):
    """自然人信息 — the real-name profile of a person account.

    The ID number is never stored in clear: ``id_hash`` (HMAC-SM3) for matching, ``id_encrypted``
    (SM4-GCM) for the few screens entitled to the full number, ``id_masked`` for display.
    """

    user = models.OneToOneField(User, verbose_name="用户", on_delete=models.CASCADE, related_name="person")
    real_name = models.CharField("姓名", max_length=100)
    id_hash = models.CharField("证件散列码", max_length=64, unique=True)
    id_encrypted = models.CharField("证件号（加密）", max_length=200)
    id_masked = models.CharField("证件号", max_length=18)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    gender = models.CharField("性别", max_length=1, blank=True, choices=[("M", "男"), ("F", "女")])
    real_name_level = models.PositiveSmallIntegerField(
        "实名等级", choices=RealNameLevel.choices, default=RealNameLevel.L2
    )
    verified_at = models.DateTimeField("核验时间", null=True, blank=True)
    verified_by = models.CharField("核验方式", max_length=100, blank=True)
    address = models.CharField("住址", max_length=300, blank=True)

    class Meta:
        verbose_name = "自然人"
        verbose_name_plural = "自然人"

    def __str__(self) -> str:
        return f"{self.real_name}（{self.id_masked}）"


class Enterprise(models.Model):
    """法人 — an enterprise or organisation, identified by its unified social credit code."""

    user = models.OneToOneField(
        User, verbose_name="法人账号", on_delete=models.CASCADE, related_name="enterprise", null=True, blank=True
    )
    name = models.CharField("名称", max_length=200)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True)
    legal_rep_name = models.CharField("法定代表人", max_length=100)
    legal_rep_id_hash = models.CharField("法定代表人证件散列码", max_length=64, blank=True)
    legal_rep_id_encrypted = models.CharField("法定代表人证件号（加密）", max_length=200, blank=True)
    legal_rep_id_masked = models.CharField("法定代表人证件号", max_length=18, blank=True)
    region = models.ForeignKey(Region, verbose_name="登记地", null=True, blank=True, on_delete=models.PROTECT)
    address = models.CharField("住所", max_length=300, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = "法人"
        verbose_name_plural = "法人"

    def __str__(self) -> str:
        return self.name


class AuthorizationQuerySet(models.QuerySet):
    def valid_at(self, when: dt.datetime | None = None) -> AuthorizationQuerySet:
        when = when or timezone.now()
        return self.filter(revoked_at__isnull=True, valid_from__lte=when).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=when)
        )


class Authorization(models.Model):
    """授权委托 — ``agent`` may act for ``principal`` within ``scopes`` during the validity window.

    Covers an enterprise's 经办人 (``kind=enterprise_agent``), a person's 代理人 (``personal_proxy``) and a
    hall's 帮办代办 (``hall_helper``). ``scopes`` lists action names (``case.apply``, ``case.view``…) or
    ``*``; ``item_codes`` optionally limits the service items.
    """

    class Kind(models.TextChoices):
        ENTERPRISE_AGENT = "enterprise_agent", "法人经办人"
        PERSONAL_PROXY = "personal_proxy", "个人代理人"
        HALL_HELPER = "hall_helper", "帮办代办"

    principal = models.ForeignKey(User, verbose_name="委托人", on_delete=models.CASCADE, related_name="grants_given")
    agent = models.ForeignKey(User, verbose_name="受托人", on_delete=models.CASCADE, related_name="grants_received")
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    scopes = models.JSONField("授权范围", default=list)
    item_codes = models.JSONField("限定事项", default=list, blank=True)
    valid_from = models.DateTimeField("生效时间", default=timezone.now)
    valid_until = models.DateTimeField("失效时间", null=True, blank=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    note = models.CharField("备注", max_length=200, blank=True)

    objects = AuthorizationQuerySet.as_manager()

    class Meta:
        verbose_name = "授权委托"
        verbose_name_plural = "授权委托"
        indexes = [models.Index(fields=["agent", "principal"], name="authz_agent_principal_idx")]

    def __str__(self) -> str:
        return f"{self.principal} → {self.agent}（{self.get_kind_display()}）"

    def covers(self, action: str, *, item_code: str | None = None, when: dt.datetime | None = None) -> bool:
        when = when or timezone.now()
        if self.revoked_at is not None or self.valid_from > when:
            return False
        if self.valid_until is not None and self.valid_until <= when:
            return False
        if "*" not in self.scopes and action not in self.scopes:
            return False
        return not (self.item_codes and item_code not in self.item_codes)


class StaffMembership(models.Model):
    """岗位 — a staff member's role in a department, limited to a region and its descendants."""

    user = models.ForeignKey(User, verbose_name="工作人员", on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey(
        Department, verbose_name="部门", on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    region = models.ForeignKey(
        Region,
        verbose_name="数据范围",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="该岗位可见可办的区划（含下级）；默认为部门所在区划。",
    )
    is_active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = "岗位"
        verbose_name_plural = "岗位"
        constraints = [
            models.UniqueConstraint(fields=["user", "department", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.department} · {self.get_role_display()}"


class ApiToken(models.Model):
    """API 令牌 — a bearer token for programs; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("名称", max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API令牌"
        verbose_name_plural = "API令牌"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class OneTimeCode(models.Model):
    """短信验证码 — only the keyed hash of the code is stored."""

    phone = models.CharField(max_length=20, db_index=True)
    purpose = models.CharField(max_length=20, default="login")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "验证码"
        verbose_name_plural = "验证码"

    def __str__(self) -> str:
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class LoginFailure(models.Model):
    """登录失败记录 — counted for throttling (per account and per IP)."""

    key = models.CharField(max_length=150, db_index=True)
    ip = models.CharField(max_length=45, blank=True, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "登录失败"
        verbose_name_plural = "登录失败"

    def __str__(self) -> str:
        return f"{self.key} {self.at:%Y-%m-%d %H:%M}"
