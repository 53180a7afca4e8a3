"""Server-rendered pages: portal, login, personal centre, workbench."""

import re

import pytest
from django.test import Client

from tests.factories import (
    PASSWORD,
    DepartmentFactory,
    HallFactory,
    StaffFactory,
    UserFactory,
    WindowFactory,
    person,
    resident_id,
    staff,
)
from yiwang.accounts import sms
from yiwang.accounts.models import Enterprise, Person
from yiwang.accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_portal_pages_render(client, geo):
    dept = DepartmentFactory(name="天河区民政局", region=geo.th)
    hall = HallFactory(name="天河区政务服务中心", region=geo.th)
    window = WindowFactory(hall=hall, number="3", name="综合窗口")
    window.departments.add(dept)
    home = client.get("/")
    assert home.status_code == 200 and "天河区政务服务中心" in home.content.decode()
    region = client.get("/regions/440106000000/").content.decode()
    assert "天河区民政局" in region and "五山街道" in region
    assert "天河区民政局" in client.get(f"/halls/{hall.pk}/").content.decode()
    assert "天河区政务服务中心" in client.get(f"/departments/{dept.pk}/").content.decode()
    assert client.get("/regions/449999000000/").status_code == 404
    assert client.get("/regions/abc/").status_code == 404
    assert client.get("/halls/999999/").status_code == 404


def test_security_headers(client):
    r = client.get("/")
    assert "default-src 'self'" in r["Content-Security-Policy"]
    assert r["X-Frame-Options"] == "DENY"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert len(r["X-Request-ID"]) == 32


def test_html_is_simplified_chinese_and_switches_to_traditional_and_english(client):
    assert '<html lang="zh-hans">' in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hant", "next": "/"})
    page = client.get("/").content.decode()
    assert '<html lang="zh-hant">' in page and "一網通辦" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page and "Log in" in page


def test_staff_login_form(geo):
    client = Client()
    staff(Role.WINDOW_CLERK, DepartmentFactory(region=geo.th), username="clerk5")
    r = client.post("/login/", {"username": "clerk5", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/workbench/"
    assert client.get("/workbench/").status_code == 200


def test_login_form_refuses_wrong_password_and_open_redirects(geo):
    client = Client()
    StaffFactory(username="x5")
    r = client.post("/login/", {"username": "x5", "password": "bad"})
    assert r.status_code == 401 and "账号或密码错误" in r.content.decode()
    staff(Role.WINDOW_CLERK, DepartmentFactory(region=geo.th), username="clerk6")
    r = client.post("/login/", {"username": "clerk6", "password": PASSWORD, "next": "https://evil.example/"})
    assert r["Location"] == "/workbench/"


def test_phone_login_form(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/login/phone/", {"phone": "13912340000", "action": "send"})
    assert r.status_code == 200 and "验证码已发送" in r.content.decode()
    code = re.search(r"(\d{6})", sms.outbox[-1].text).group(1)
    r = client.post("/login/phone/", {"phone": "13912340000", "code": code, "action": "login"})
    assert r.status_code == 302 and r["Location"] == "/me/"


def test_workbench_is_for_staff_only(client, geo):
    assert client.get("/workbench/")["Location"].startswith("/login/")
    client.force_login(person().user)
    assert client.get("/workbench/").status_code == 403


def test_admin_login_goes_through_the_platform_login(client):
    r = client.get("/admin/login/?next=/admin/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_identity_form_rejects_bad_id_numbers(client):
    user = UserFactory()
    client.force_login(user)
    r = client.post("/me/identity/", {"real_name": "张三", "id_number": "440106199003071230"})
    assert r.status_code == 422 and "校验码错误" in r.content.decode()
    assert not Person.objects.exists()
    number = resident_id()
    r = client.post("/me/identity/", {"real_name": "张三", "id_number": number})
    assert r.status_code == 302
    page = client.get("/me/").content.decode()
    assert number not in page and number[:4] + "**********" + number[-4:] in page


def test_enterprise_form_rejects_bad_credit_codes(client):
    client.force_login(person().user)
    r = client.post(
        "/me/enterprises/new/", {"name": "某公司", "credit_code": "91440300708461136X", "legal_rep_name": "张三"}
    )
    assert r.status_code == 422 and "统一社会信用代码校验码错误" in r.content.decode()
    assert not Enterprise.objects.exists()
    r = client.post(
        "/me/enterprises/new/", {"name": "某公司", "credit_code": "91440300708461136T", "legal_rep_name": "张三"}
    )
    assert r.status_code == 302 and Enterprise.objects.count() == 1


def test_window_registration_page(client, geo):
    clerk = staff(Role.WINDOW_CLERK, DepartmentFactory(region=geo.th))
    client.force_login(clerk)
    r = client.post("/workbench/persons/new/", {"real_name": "王五", "id_number": "12345"})
    assert r.status_code == 422 and "身份证号码应为18位" in r.content.decode()
    number = resident_id()
    assert client.post("/workbench/persons/new/", {"real_name": "王五", "id_number": number}).status_code == 302
    page = client.post("/workbench/persons/lookup/", {"id_number": number}).content.decode()
    assert "王五" in page and number not in page


def test_authorisation_page(client):
    principal = person(name="甲")
    number = resident_id()
    person(name="乙", id_number=number)
    client.force_login(principal.user)
    r = client.post(
        "/me/authorizations/new/",
        {"agent_id_number": number, "kind": "personal_proxy", "scopes": ["case.apply"], "days": "30"},
    )
    assert r.status_code == 302
    assert "乙" in client.get("/me/").content.decode()
    r = client.post(
        "/me/authorizations/new/", {"agent_id_number": "44", "kind": "personal_proxy", "scopes": ["case.apply"]}
    )
    assert r.status_code == 422


def test_totp_setup_page(client, geo):
    import pyotp

    user = staff(Role.REVIEWER, DepartmentFactory(region=geo.th))
    client.force_login(user)
    page = client.post("/workbench/totp/", {"action": "begin"}).content.decode()
    uri = re.search(r'<code class="break">([^<]+)</code>', page).group(1).replace("&amp;", "&")
    code = pyotp.TOTP(pyotp.parse_uri(uri).secret).now()
    assert client.post("/workbench/totp/", {"action": "confirm", "code": code}).status_code == 302
    user.refresh_from_db()
    assert user.totp_enabled
    other = Client()
    r = other.post("/login/", {"username": user.username, "password": PASSWORD})
    assert r["Location"].startswith("/login/totp/")
    r = other.post("/login/totp/", {"code": pyotp.TOTP(pyotp.parse_uri(uri).secret).now()})
    assert r.status_code == 302 and r["Location"] == "/workbench/"
