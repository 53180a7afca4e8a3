"""Open311 GeoReport v2 facade, endpoint by endpoint against the specification (anchors.md §2.4)."""

import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone

from tests.hotline.factories import SYSTEM, order, world
from yiwang.hotline import open311, services
from yiwang.hotline.models import WorkOrder

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"


@pytest.fixture
def w(db):
    return world()


@pytest.fixture
def key(w):
    _client, plain = open311.client_create(actor=SYSTEM, name="城市随手拍", region_code=w.geo.th.code)
    return plain


@pytest.fixture
def c():
    return Client()


def xml(response):
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)


def js(response):
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def test_discovery(c, w):
    data = js(c.get(f"{BASE}/discovery.json"))
    assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
    ep = data["endpoints"][0]
    assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert ep["url"].endswith("/open311/v2/") and ep["type"] == "production"
    assert set(ep["formats"]) == {"text/xml", "application/json"}
    root = xml(c.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]


def test_services_list_in_both_formats(c, w):
    data = js(c.get(f"{BASE}/services.json"))
    names = {s["service_name"] for s in data}
    assert {"市政设施", "物业管理", "噪声污染", "劳动保障"} <= names
    service = next(s for s in data if s["service_name"] == "市政设施")
    assert set(service) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert service["metadata"] is True and service["type"] == "realtime"
    assert service["group"] == "城乡建设" and "道路维修" in service["keywords"]
    root = xml(c.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and len(root.findall("service")) == len(data)
    first = root.find("service")
    assert first.find("metadata").text == "true"


def test_service_definition(c, w):
    code = w.cats.roads.parent.code
    data = js(c.get(f"{BASE}/services/{code}.json"))
    assert data["service_code"] == code
    kind = next(a for a in data["attributes"] if a["code"] == "kind")
    assert kind["datatype"] == "singlevaluelist" and kind["variable"] is True
    assert {"key": "complaint", "name": "投诉"} in kind["values"]
    for attribute in data["attributes"]:
        assert set(attribute) == {
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
            "values",
        }
        assert attribute["datatype"] in {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
    root = xml(c.get(f"{BASE}/services/{code}.xml"))
    assert root.tag == "service_definition"
    assert root.find("attributes/attribute/values/value/key") is not None
    missing = c.get(f"{BASE}/services/9999.json")
    assert missing.status_code == 404 and js(missing)[0]["code"] == 404


def test_post_request_creates_a_work_order(c, w, key):
    response = c.post(
        f"{BASE}/requests.json",
        {
            "api_key": key,
            "jurisdiction_id": "yiwang.local",
            "service_code": w.cats.roads.parent.code,
            "lat": "23.150000",
            "long": "113.350000",
            "address_string": "五山路381号",
            "address_id": w.geo.ws.code,
            "description": "华南理工大学门口路面坑洼，下雨积水。联系电话13912345678",
            "first_name": "小明",
            "last_name": "王",
            "phone": "13912345678",
            "email": "wang@example.com",
            "attribute[kind]": "complaint",
            "media_url": "https://example.com/p.jpg",
        },
    )
    assert response.status_code == 201
    row = js(response)[0]
    assert set(row) == {"service_request_id", "token", "service_notice", "account_id"}
    order = WorkOrder.objects.get(number=row["service_request_id"])
    assert order.channel == "open311" and order.region_id == w.geo.ws.code and order.caller_name == "王小明"
    assert order.category == w.cats.roads.parent and order.kind == "complaint"
    assert str(order.latitude) == "23.150000" and order.media_url == "https://example.com/p.jpg"
    assert order.open311_client.name == "城市随手拍"

    # token → id
    tok = js(c.get(f"{BASE}/tokens/{row['token']}.json"))
    assert tok == [{"service_request_id": order.number, "token": row["token"]}]
    assert c.get(f"{BASE}/tokens/nope.json").status_code == 404

    # by id, JSON and XML, with the spec's fields
    got = js(c.get(f"{BASE}/requests/{order.number}.json"))[0]
    assert set(got) == {
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    }
    assert got["status"] == "open" and got["address"] == "五山路381号"
    assert "13912345678" not in got["description"] and "139****5678" in got["description"]
    assert dt.datetime.fromisoformat(got["requested_datetime"]).utcoffset() == dt.timedelta(hours=8)
    root = xml(c.get(f"{BASE}/requests/{order.number}.xml"))
    assert root.tag == "service_requests" and root.find("request/service_request_id").text == order.number


def test_post_request_xml_and_errors(c, w, key):
    code = w.cats.roads.parent.code
    ok = c.post(
        f"{BASE}/requests.xml",
        {"api_key": key, "service_code": code, "address_string": "天河路1号", "description": "路灯不亮"},
    )
    assert ok.status_code == 201 and xml(ok).find("request/service_request_id").text
    assert WorkOrder.objects.get(number=xml(ok).find("request/service_request_id").text).region_id == w.geo.th.code

    def err(data, fmt="json"):
        r = c.post(f"{BASE}/requests.{fmt}", data)
        return r.status_code, (js(r)[0] if fmt == "json" else xml(r))

    status, body = err({"service_code": code, "address_string": "x"})
    assert status == 403 and body == {"code": 403, "description": "api_key is missing or not valid"}
    assert err({"api_key": "wrong", "service_code": code, "address_string": "x"})[0] == 403
    status, body = err({"api_key": key, "address_string": "x"})
    assert (status, body["code"]) == (400, 400) and "service_code" in body["description"]
    assert err({"api_key": key, "service_code": "9999", "address_string": "x"})[0] == 404
    status, body = err({"api_key": key, "service_code": code})
    assert status == 400 and "location" in body["description"]
    assert err({"api_key": key, "service_code": code, "lat": "123", "long": "1"})[0] == 400
    assert err({"api_key": key, "service_code": code, "address_id": "999999999999"})[0] == 400
    assert err({"api_key": key, "service_code": code, "address_string": "x", "description": "x" * 4001})[0] == 400
    assert err({"api_key": key, "service_code": code, "address_string": "x", "attribute[kind]": "rant"})[0] == 400
    status, root = err({"service_code": code, "address_string": "x"}, fmt="xml")
    assert status == 403 and root.tag == "errors" and root.find("error/code").text == "403"
    # an emergency is refused with the referral
    status, body = err({"api_key": key, "service_code": code, "address_string": "x", "description": "楼下着火了"})
    assert status == 400 and "119" in body["description"]
    # a different jurisdiction is not served here
    assert c.get(f"{BASE}/services.json", {"jurisdiction_id": "elsewhere"}).status_code == 404
    assert c.get(f"{BASE}/services.yaml").status_code == 404


def test_get_requests_filters(c, w):
    a = order(w, title="路面坑洼", category_code=w.cats.roads.code)
    b = order(w, title="施工噪声", content="工地夜间施工噪声扰民", category_code=w.cats.noise.code)
    secret = order(w, is_confidential=True)
    services.order_answer(actor=w.agent, order_id=b.pk, reply="已告知夜间施工许可规定")
    numbers = lambda r: {x["service_request_id"] for x in js(r)}  # noqa: E731
    assert numbers(c.get(f"{BASE}/requests.json")) == {a.number, b.number}
    assert secret.number not in numbers(c.get(f"{BASE}/requests.json"))
    assert numbers(c.get(f"{BASE}/requests.json", {"status": "open"})) == {a.number}
    assert numbers(c.get(f"{BASE}/requests.json", {"status": "closed"})) == {b.number}
    closed = js(c.get(f"{BASE}/requests/{b.number}.json"))[0]
    assert closed["status"] == "closed" and "已告知" in closed["status_notes"]
    assert numbers(c.get(f"{BASE}/requests.json", {"service_code": w.cats.noise.parent.code})) == {b.number}
    assert numbers(
        c.get(f"{BASE}/requests.json", {"service_request_id": f"{a.number},{secret.number}", "status": "closed"})
    ) == {a.number}
    today = timezone.localdate()
    assert numbers(
        c.get(
            f"{BASE}/requests.json",
            {
                "start_date": (today - dt.timedelta(days=1)).isoformat(),
                "end_date": (today + dt.timedelta(days=1)).isoformat(),
            },
        )
    ) == {a.number, b.number}
    assert numbers(c.get(f"{BASE}/requests.json", {"end_date": (today - dt.timedelta(days=2)).isoformat()})) == set()
    too_long = c.get(
        f"{BASE}/requests.json", {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-06-01T00:00:00+08:00"}
    )
    assert too_long.status_code == 400 and "90" in js(too_long)[0]["description"]
    assert c.get(f"{BASE}/requests.json", {"start_date": "yesterday"}).status_code == 400
    assert c.get(f"{BASE}/requests.json", {"status": "pending"}).status_code == 400
    assert c.get(f"{BASE}/requests/{secret.number}.json").status_code == 404
    root = xml(c.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests" and len(root.findall("request")) == 2


def test_methods(c, w):
    assert c.post(f"{BASE}/services.json").status_code == 405
    assert c.delete(f"{BASE}/requests.json").status_code == 405
