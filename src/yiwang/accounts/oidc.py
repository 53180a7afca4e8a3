"""Seam for an external unified identity provider (统一身份认证, OpenID Connect authorisation-code flow).

Enable by setting ``YIWANG_OIDC_ISSUER``, ``YIWANG_OIDC_CLIENT_ID`` and ``YIWANG_OIDC_CLIENT_SECRET``;
the login page then offers "统一身份认证登录". The provider's userinfo is mapped to an
:class:`ExternalIdentity` and linked to a local person by ID-number hash (or phone), never by name.
A provincial SSO that is not OIDC (ticket/``getUserInfo`` style) implements :class:`IdentityProvider`.
"""

from __future__ import annotations

import abc
import json
import secrets
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from yiwang.core import audit, crypto
from yiwang.core.errors import ValidationFailed
from yiwang.core.ids import mask_resident_id, validate_mobile, validate_resident_id

from .models import Person, User
from .roles import RealNameLevel


@dataclass(frozen=True)
class ExternalIdentity:
    subject: str
    name: str = ""
    id_number: str = ""
    phone: str = ""
    level: int = RealNameLevel.L3


class IdentityProvider(abc.ABC):
    @abc.abstractmethod
    def authorization_url(self, *, redirect_uri: str, state: str, nonce: str) -> str:
        """Where to send the browser to log in."""

    @abc.abstractmethod
    def complete(self, *, code: str, redirect_uri: str) -> ExternalIdentity:
        """Exchange the returned code for the user's identity."""


class OidcProvider(IdentityProvider):
    timeout = 10

    def __init__(self, issuer: str, client_id: str, client_secret: str) -> None:
        self.issuer, self.client_id, self.client_secret = issuer.rstrip("/"), client_id, client_secret
        self._config: dict[str, Any] | None = None

    def _fetch(self, url: str, data: dict[str, str] | None = None, token: str | None = None) -> dict[str, Any]:
        if not url.startswith("https://") and not settings.DEBUG:
            raise ValidationFailed("身份认证服务地址必须使用 HTTPS。", code="oidc_insecure")
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body)  # noqa: S310 - https enforced above
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            return json.loads(response.read().decode())

    def config(self) -> dict[str, Any]:
        if self._config is None:
            self._config = self._fetch(f"{self.issuer}/.well-known/openid-configuration")
        return self._config

    def authorization_url(self, *, redirect_uri: str, state: str, nonce: str) -> str:
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid profile phone",
                "state": state,
                "nonce": nonce,
            }
        )
        return f"{self.config()['authorization_endpoint']}?{query}"

    def complete(self, *, code: str, redirect_uri: str) -> ExternalIdentity:
        tokens = self._fetch(
            self.config()["token_endpoint"],
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
        )
        info = self._fetch(self.config()["userinfo_endpoint"], token=tokens["access_token"])
        return ExternalIdentity(
            subject=str(info["sub"]),
            name=info.get("name", ""),
            id_number=info.get("id_number", ""),
            phone=info.get("phone_number", ""),
            level=int(info.get("real_name_level", RealNameLevel.L3)),
        )


def get_provider() -> IdentityProvider | None:
    conf = settings.OIDC
    if not conf.get("ISSUER"):
        return None
    return OidcProvider(conf["ISSUER"], conf["CLIENT_ID"], conf["CLIENT_SECRET"])


def new_state() -> tuple[str, str]:
    return secrets.token_urlsafe(24), secrets.token_urlsafe(24)


@transaction.atomic
def link_identity(identity: ExternalIdentity) -> User:
    """Find or create the local person for an identity confirmed by the provider."""
    number = validate_resident_id(identity.id_number) if identity.id_number else ""
    phone = validate_mobile(identity.phone) if identity.phone else ""
    person = Person.objects.select_related("user").filter(id_hash=crypto.keyed_hash(number)).first() if number else None
    user = person.user if person else (User.objects.filter(phone=phone).first() if phone else None)
    if user is None:
        user = User.objects.create_user(
            f"o{crypto.keyed_hash(identity.subject)[:16]}",
            None,
            phone=phone or None,
            kind=User.Kind.PERSON,
            display_name=identity.name[:100],
        )
    if number and person is None:
        Person.objects.update_or_create(
            user=user,
            defaults={
                "real_name": identity.name[:100],
                "id_hash": crypto.keyed_hash(number),
                "id_encrypted": crypto.encrypt(number),
                "id_masked": mask_resident_id(number),
                "real_name_level": identity.level,
                "verified_by": "统一身份认证",
            },
        )
    audit.record(actor=user, action="accounts.login", obj=user, summary={"method": "oidc"})
    return user
