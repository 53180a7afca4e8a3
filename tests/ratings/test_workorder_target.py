"""12345 work orders as rating targets: a finished order invites the caller after commit; an open one
cannot be rated."""

import pytest

from tests.hotline import factories as hf
from yiwang.core.errors import Conflict
from yiwang.hotline import services as hotline
from yiwang.ratings import services, targets
from yiwang.ratings.models import RatingInvitation

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    return hf.world()


def test_open_order_is_not_rateable(w):
    assert "workorder" in targets.kinds()
    order = hf.order(w)
    assert targets.resolve("workorder", order.pk).served_at is None
    with pytest.raises(Conflict):
        services.invite_after_service(kind="workorder", target_id=order.pk)


def test_answered_order_invites_the_caller(w, django_capture_on_commit_callbacks):
    entry = hf.kb_entry()
    order = hf.order(w)
    with django_capture_on_commit_callbacks(execute=True):
        hotline.order_answer(actor=w.agent, order_id=order.pk, entry_id=entry.pk)
    invitation = RatingInvitation.objects.get(target_kind="workorder", target_id=str(order.pk))
    rating = services.rating_submit(token=services.invitation_token(invitation), level=4, channel="hotline")
    assert rating.mode == "online" and rating.staff_id == w.agent.pk and rating.region_code == w.geo.ws.code
    assert rating.target_label.startswith("12345工单")
