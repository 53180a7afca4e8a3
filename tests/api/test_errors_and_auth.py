"""The API's error format, authentication and scoping."""

import pytest

from tests.factories import PASSWORD, DepartmentFactory, StaffFactory, UserFactory, person, resident_id, staff
from yiwang.accounts.roles import Role
from yiwang.directory.models import Department

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    return body


def test_unauthenticated_requests_get_401(api):
    assert_error(api.get("/me"), 401, "not_authenticated")


def test_token_from_password_and_me(api, geo):
    user = staff(Role.WINDOW_CLERK, DepartmentFactory(region=geo.th), username="clerk9")
    r = api.post("/auth/token", {"username": "clerk9", "password": PASSWORD})
    assert r.status_code == 201
    from tests.api.conftest import ApiClient

    me = ApiClient(r.json()["token"]).get("/me").json()
    assert me["username"] == "clerk9" and me["memberships"][0]["role"] == "window_clerk"
    assert me["id"] == user.pk


def test_bad_password_is_401_with_code(api):
    StaffFactory(username="x1")
    assert_error(api.post("/auth/token", {"username": "x1", "password": "nope"}), 401, "login_failed")


def test_missing_credentials_is_422(api):
    assert_error(api.post("/auth/token", {}), 422, "credentials_required")


def test_schema_validation_errors_use_the_same_format(api):
    body = assert_error(api.get("/workdays/add", {"start": "2026-02-30", "n": 5}), 422, "validation_failed")
    assert body["details"][0]["loc"][-1] == "start"


def test_unknown_region_is_404_and_malformed_is_422(api):
    assert_error(api.get("/regions/449999000000"), 404, "region_not_found")
    assert_error(api.get("/regions/44"), 422, "invalid_region_code")


def test_invalid_id_number_is_rejected_by_the_api(api_as):
    user = UserFactory()
    client = api_as(user)
    body = assert_error(
        client.post("/me/identity", {"real_name": "张三", "id_number": "440106199003071230"}),
        422,
        "invalid_resident_id",
    )
    assert "校验码" in body["message"]
    ok = client.post("/me/identity", {"real_name": "张三", "id_number": resident_id()})
    assert ok.status_code == 200 and "*" in ok.json()["id_masked"]


def test_invalid_credit_code_is_rejected_by_the_api(api_as, geo):
    client = api_as(person().user)
    assert_error(
        client.post("/enterprises", {"name": "某公司", "credit_code": "91440300708461136X", "legal_rep_name": "张三"}),
        422,
        "invalid_credit_code",
    )
    sup = staff(Role.SUPERVISOR, DepartmentFactory(region=geo.th))
    assert_error(
        api_as(sup).post(
            "/departments", {"name": "新部门", "region_code": "440106000000", "credit_code": "11440106MB2C91001X"}
        ),
        422,
        "invalid_credit_code",
    )
    assert not Department.objects.filter(name="新部门").exists()


def test_county_supervisor_cannot_edit_another_county_through_the_api(api_as, geo):
    th, yx = DepartmentFactory(region=geo.th), DepartmentFactory(region=geo.yx)
    client = api_as(staff(Role.SUPERVISOR, th))
    assert client.patch(f"/departments/{th.pk}", {"phone": "020-1"}).status_code == 200
    assert_error(client.patch(f"/departments/{yx.pk}", {"phone": "020-1"}), 403, "permission_denied")
    assert Department.objects.get(pk=yx.pk).phone == ""
    assert_error(
        client.post("/departments", {"name": "越秀新部门", "region_code": "440104000000"}), 403, "permission_denied"
    )


def test_window_registration_api(api_as, geo):
    clerk = staff(Role.WINDOW_CLERK, DepartmentFactory(region=geo.th))
    client = api_as(clerk)
    number = resident_id()
    r = client.post("/persons", {"real_name": "赵六", "id_number": number, "phone": "13700137000"})
    assert r.status_code == 201 and r.json()["real_name_level"] == 5
    assert number not in r.content.decode()
    assert client.get("/persons/lookup", {"id_number": number}).json()["real_name"] == "赵六"
    assert_error(client.get("/persons/lookup", {"id_number": resident_id()}), 404, "person_not_found")
    assert_error(client.get("/persons/lookup", {"id_number": "123"}), 422, "invalid_resident_id")
    citizen = api_as(person().user)
    assert_error(citizen.post("/persons", {"real_name": "x", "id_number": resident_id()}), 403, "permission_denied")


def test_authorisations_api(api_as):
    principal = person(name="甲")
    agent_number = resident_id()
    person(name="乙", id_number=agent_number)
    client = api_as(principal.user)
    r = client.post(
        "/authorizations", {"agent_id_number": agent_number, "kind": "personal_proxy", "scopes": ["case.apply"]}
    )
    assert r.status_code == 201
    grant_id = r.json()["id"]
    assert client.get("/authorizations").json()["given"][0]["id"] == grant_id
    assert client.delete(f"/authorizations/{grant_id}").json()["revoked_at"]
    assert_error(
        client.post("/authorizations", {"agent_id_number": "123", "kind": "personal_proxy", "scopes": ["case.apply"]}),
        422,
        "invalid_resident_id",
    )


def test_session_auth_needs_csrf_for_writes(geo):
    from django.test import Client

    user = person().user
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/v1/me").status_code == 200
    r = client.post(
        "/api/v1/me/identity", {"real_name": "张三", "id_number": resident_id()}, content_type="application/json"
    )
    assert r.status_code in (401, 403)


def test_public_directory_endpoints(api, geo):
    DepartmentFactory(name="天河局", region=geo.th)
    regions = api.get("/regions").json()
    assert [r["code"] for r in regions] == ["440000000000"]
    assert api.get("/regions", {"parent": "440100000000"}).json()[0]["parent_code"] == "440100000000"
    detail = api.get("/regions/440106001001").json()
    assert [a["name"] for a in detail["ancestors"]] == ["广东省", "广州市", "天河区", "五山街道"]
    assert api.get("/departments", {"region": "440100000000"}).json()[0]["name"] == "天河局"
    assert api.get("/departments", {"region": "440104000000"}).json() == []
    assert api.get("/workdays/add", {"start": "2026-09-30", "n": 5}).json() == {
        "date": "2026-10-13",
        "provisional": False,
    }
    assert api.get("/workdays/between", {"a": "2026-09-30", "b": "2026-10-13"}).json()["days"] == 5


def test_audit_endpoints(api_as, geo, system):
    from yiwang.core import audit

    audit.record(actor=system, action="x.th", region_code="440106000000")
    sup = staff(Role.SUPERVISOR, DepartmentFactory(region=geo.th))
    assert [e["action"] for e in api_as(sup).get("/audit/events").json()] == ["x.th"]
    assert_error(api_as(sup).post("/audit/verify"), 403, "permission_denied")
    root = StaffFactory(is_superuser=True)
    assert api_as(root).post("/audit/verify").json()["ok"] is True


def test_ids_beyond_64_bits_are_rejected_not_500(api_as, geo):
    user = UserFactory(kind="person")
    r = api_as(user).post("/cases/messages/read", {"ids": [2**70]})
    assert_error(r, 422, "validation_failed")


def test_out_of_range_and_nul_input_map_to_400(rf):
    """The last-resort handlers turn database refusals of bad input into 400s, never 500s."""
    from django.db import DataError

    from yiwang.api import on_data_error, on_overflow, on_unexpected

    request = rf.get("/api/v1/x")
    assert on_overflow(request, OverflowError("Python int too large")).status_code == 400
    assert on_data_error(request, DataError("integer out of range")).status_code == 400
    nul = ValueError("A string literal cannot contain NUL (0x00) characters.")
    assert on_unexpected(request, nul).status_code == 400
    assert on_unexpected(request, RuntimeError("boom")).status_code == 500


def test_nul_byte_in_a_filter_is_not_a_server_error(api_as, geo):
    admin = staff(Role.SUPERVISOR, DepartmentFactory(region=geo.gd), username="sup-nul")
    r = api_as(admin).get("/audit/events?action=a%00b")
    assert r.status_code in (200, 400, 422), r.content


def test_a_body_over_the_upload_limit_is_413_not_500(api_as, settings):
    """A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is refused with the error format, nothing read."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = api_as(staff(Role.WINDOW_CLERK, DepartmentFactory()))
    body = assert_error(client.post("/deliveries/pickup", {"pickup_code": "1" * 2000}), 413, "payload_too_large")
    assert body["details"] is None


def test_every_operation_with_a_body_documents_413():
    from yiwang.api import api

    spec = api.get_openapi_schema()
    with_body = [op for ops in spec["paths"].values() for op in ops.values() if "requestBody" in op]
    assert len(with_body) > 50
    for operation in with_body:
        assert 413 in operation["responses"], operation["operationId"]
        assert operation["responses"][413]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
