"""好差评 pages: the mobile rating page, the evaluator tablet, window service, the rectification queue and
detail, reports with exports, and the public disclosure."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.ratings.factories import rate, served, world
from yiwang.core.models import AuditEvent
from yiwang.ratings import selectors, services
from yiwang.ratings.models import Rating, Rectification, ServiceContact

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    return world()


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_rate_page_faces_options_and_submit(w):
    _, invitation = served(w)
    url = reverse("ratings:rate", args=[invitation.token])
    page = Client().get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "yw_device" in page.cookies
    assert all(f'data-testid="face-{n}"' in html for n in range(1, 6))
    partial = Client().get(url, {"level": 2}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and "服务态度差" in partial.content.decode()
    praise = Client().get(url, {"level": 5}).content.decode()
    assert "服务热情周到" in praise and "服务态度差" not in praise
    error = Client().post(url, {"level": 2, "channel": "qr"})
    assert error.status_code == 422 and "差评请至少选择一项原因" in error.content.decode()
    done = Client().post(url, {"level": 2, "channel": "sms", "reasons": ["b_wait"], "ind_service_attitude": "2"})
    assert done.status_code == 200 and "感谢您的评价" in done.content.decode()
    rating = Rating.objects.get()
    assert rating.channel == "sms" and rating.indicators == {"service_attitude": 2} and rating.reasons == ["b_wait"]
    assert Rectification.objects.filter(rating=rating).exists()
    again = Client().get(url).content.decode()
    assert "该评价链接已使用" in again


def test_invalid_link(w):
    r = Client().get(reverse("ratings:rate", args=["not-a-token"]))
    assert r.status_code == 404 and "评价链接无效" in r.content.decode()


def test_evaluator_tablet(w):
    _, key = services.device_register(actor=w.supervisor, window_id=w.window.pk)
    client = Client()
    assert client.get(reverse("ratings:evaluator", args=["ywd_nope"])).status_code == 404
    page = client.get(reverse("ratings:evaluator", args=[key])).content.decode()
    assert "欢迎办理业务" in page and "3号窗口" in page
    contact = services.contact_start(actor=w.clerk, window_id=w.window.pk, item_name="食品经营许可")
    now = client.get(reverse("ratings:evaluator_now", args=[key])).content.decode()
    assert 'data-state="serving"' in now
    services.contact_end(actor=w.clerk, contact_id=contact.pk)
    now = client.get(reverse("ratings:evaluator_now", args=[key])).content.decode()
    assert 'data-state="rate"' in now and "evaluator-face-1" in now
    token = selectors.window_now(w.window.pk).token
    reasons = client.get(reverse("ratings:evaluator_now", args=[key]), {"level": 1, "token": token}).content.decode()
    assert 'data-state="reasons"' in reasons and "服务态度差" in reasons
    thanks = client.post(
        reverse("ratings:evaluator_submit", args=[key]), {"token": token, "level": 1, "reasons": ["b_wait"]}
    )
    assert "感谢您的评价" in thanks.content.decode()
    rating = Rating.objects.get()
    assert rating.channel == "evaluator" and rating.level == 1 and rating.target_id == str(contact.pk)
    assert 'data-state="idle"' in client.get(reverse("ratings:evaluator_now", args=[key])).content.decode()
    repeat = client.post(reverse("ratings:evaluator_submit", args=[key]), {"token": token, "level": 5})
    assert "该评价链接已使用" in repeat.content.decode()


def test_window_service_page(w):
    client = logged_in(w.clerk)
    url = reverse("ratings:window")
    page = client.get(url).content.decode()
    assert "市场监管窗口" in page
    client.post(url, {"window": w.window.pk, "action": "start", "item_name": "营业执照", "department": w.dept.pk})
    contact = ServiceContact.objects.get()
    r = client.post(url, {"window": w.window.pk, "action": "end", "contact": contact.pk})
    assert r.status_code == 302 and "invite=" in r["Location"]
    page = client.get(r["Location"]).content.decode()
    assert 'data-testid="invite"' in page and "data:image/svg+xml" in page
    assert "登记评价器" not in page  # clerks do not manage devices
    sup = logged_in(w.supervisor)
    r = sup.post(url, {"window": w.window.pk, "action": "device", "name": "平板"})
    assert "/rate/device/ywd_" in r.content.decode()


def test_rectification_pages_walk_the_loop(w):
    _, invitation = served(w, person=w.citizen)
    rate(invitation, 2, reasons=["b_attitude"])
    rect = Rectification.objects.get()
    head, handler = logged_in(w.head), logged_in(w.handler)
    queue = head.get(reverse("ratings:rectifications")).content.decode()
    assert rect.number in queue and "待分派" in queue
    assert rect.number not in logged_in(w.other_head).get(reverse("ratings:rectifications")).content.decode()
    assert logged_in(w.other_head).get(reverse("ratings:rectification", args=[rect.pk])).status_code == 404
    url = reverse("ratings:rectification", args=[rect.pk])
    assert head.post(url, {"action": "assign", "assignee": w.handler.pk}).status_code == 302
    page = handler.post(url, {"action": "reveal"}).content.decode()
    assert 'data-testid="evaluator"' in page and "13800138000" in page
    assert AuditEvent.objects.filter(action="ratings.evaluator.view", actor_id=w.handler.pk).count() == 1
    assert 'data-testid="reveal"' not in head.get(url).content.decode()
    handler.post(url, {"action": "verify", "reached": "1", "note": "已电话核实"})
    handler.post(url, {"action": "classify", "classification": "rectify_now", "note": "立行立改"})
    handler.post(url, {"action": "feedback", "text": "已整改", "public_summary": "已加强培训"})
    handler.post(url, {"action": "return_visit", "reached": "1", "level": "4"})
    rect.refresh_from_db()
    assert rect.state == "closed"
    error = handler.post(url, {"action": "verify", "reached": "1", "note": "x"}, follow=True).content.decode()
    assert "不能执行" in error
    assert head.post(url, {"action": "bogus"}).status_code == 403


def test_reports_page_exports_and_print(w):
    rate(served(w)[1], 5)
    client = logged_in(w.supervisor)
    page = client.get(reverse("ratings:reports"), {"by": "window"}).content.decode()
    assert "<svg" in page and "3号 市场监管窗口" in page and 'data-testid="kpi-total">1<' in page
    xlsx = client.get(reverse("ratings:report_export", args=["xlsx"]), {"by": "department"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    pdf = client.get(reverse("ratings:report_export", args=["pdf"]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(reverse("ratings:report_export", args=["doc"])).status_code == 404
    printable = client.get(reverse("ratings:reports"), {"print": 1}).content.decode()
    assert "好差评统计报表" in printable
    assert logged_in(w.clerk).get(reverse("ratings:reports")).status_code == 403
    bad = client.get(reverse("ratings:reports"), {"month": "2026-99"})
    assert bad.status_code == 302


def test_public_disclosure_pages(w):
    rate(served(w)[1], 5)
    month = f"{selectors.today_local():%Y-%m}"
    index = Client().get(reverse("ratings:disclosure"), {"month": month}).content.decode()
    assert "天河区市场监督管理局" in index and "100.0%" in index
    page = Client().get(reverse("ratings:disclosure_department", args=[w.dept.pk, month])).content.decode()
    assert "差评整改公示" in page
    assert Client().get(reverse("ratings:disclosure_department", args=[w.dept.pk, "2026-13"])).status_code == 404
    assert Client().get(reverse("ratings:disclosure_department", args=[999999, month])).status_code == 404


def test_my_ratings_page_lists_pending_and_given(w):
    served(w, person=w.citizen)
    client = logged_in(w.citizen)
    page = client.get(reverse("ratings:mine")).content.decode()
    assert "营业执照变更登记" in page and "?c=portal" in page
    token = page.split("/rate/")[1].split("/")[0]
    client.post(reverse("ratings:rate", args=[token]), {"level": 5, "channel": "portal"})
    rating = Rating.objects.get()
    assert rating.channel == "portal" and rating.evaluator == w.citizen
    page = client.get(reverse("ratings:mine")).content.decode()
    assert "非常满意" in page and "可追评" in page
    assert Client().get(reverse("ratings:mine")).status_code == 302
