"""The unified-identity seam: a provider's identity links to the local person by ID-number hash."""

import pytest
from django.test import override_settings

from tests.factories import person, resident_id
from yiwang.accounts import oidc
from yiwang.accounts.models import Person, User

pytestmark = pytest.mark.django_db


class FakeProvider(oidc.IdentityProvider):
    def __init__(self, identity):
        self.identity = identity

    def authorization_url(self, *, redirect_uri, state, nonce):
        return f"https://idp.example/auth?state={state}&redirect_uri={redirect_uri}"

    def complete(self, *, code, redirect_uri):
        assert code == "good-code"
        return self.identity


def test_link_identity_finds_the_existing_person():
    number = resident_id()
    existing = person(name="张三", id_number=number)
    user = oidc.link_identity(oidc.ExternalIdentity(subject="s1", name="张三", id_number=number))
    assert user == existing.user


def test_link_identity_creates_a_verified_person():
    number = resident_id()
    user = oidc.link_identity(
        oidc.ExternalIdentity(subject="s2", name="李四", id_number=number, phone="13600136000", level=4)
    )
    assert user.kind == User.Kind.PERSON and user.phone == "13600136000"
    assert Person.objects.get(user=user).real_name_level == 4


def test_link_identity_rejects_an_invalid_id_number():
    with pytest.raises(Exception, match="身份证"):
        oidc.link_identity(oidc.ExternalIdentity(subject="s3", name="王五", id_number="123"))


@override_settings(OIDC={"ISSUER": "https://idp.example", "CLIENT_ID": "c", "CLIENT_SECRET": "s"})
def test_login_flow_checks_state(client, monkeypatch):
    number = resident_id()
    provider = FakeProvider(oidc.ExternalIdentity(subject="s4", name="赵六", id_number=number))
    monkeypatch.setattr(oidc, "get_provider", lambda: provider)
    assert "统一身份认证登录" in client.get("/login/").content.decode()
    r = client.get("/login/oidc/")
    state = r["Location"].split("state=")[1].split("&")[0]
    bad = client.get("/login/oidc/callback/", {"state": "forged", "code": "good-code"})
    assert bad["Location"] == "/login/"
    r = client.get("/login/oidc/")
    state = r["Location"].split("state=")[1].split("&")[0]
    ok = client.get("/login/oidc/callback/", {"state": state, "code": "good-code"})
    assert ok["Location"] == "/me/"
    assert client.get("/me/").status_code == 200


def test_provider_is_off_without_configuration():
    assert oidc.get_provider() is None
