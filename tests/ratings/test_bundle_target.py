"""一件事 as a rating target: a concluded bundle gets exactly ONE invitation, for the parent; its child cases
get none — also when it ends partially (a child refused) — and a withdrawn bundle is not rated."""

import pytest

from tests.cases.bundle_factories import apply, finish, newborn_world
from yiwang.cases import bundles
from yiwang.cases.models import BundleCase
from yiwang.core.errors import Conflict
from yiwang.ratings import services, targets
from yiwang.ratings.models import Rating, RatingInvitation

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path / "private"
    return newborn_world()


def _children(parent):
    return list(parent.children.select_related("case").order_by("stage", "position"))


def _finish_all(w, parent, *, refuse_first=False):
    first, second, _third = _children(parent)
    finish(w, first.case, approve=not refuse_first)
    finish(w, second.case)
    parent.refresh_from_db()
    for child in _children(parent):
        if child.status == "running":
            finish(w, child.case)
    parent.refresh_from_db()
    return parent


def test_a_completed_bundle_invites_once_for_the_parent_and_never_for_its_children(
    w, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        parent, _ = apply(w)
        assert not RatingInvitation.objects.exists()
        parent = _finish_all(w, parent)
    assert parent.state == "completed"
    invitation = RatingInvitation.objects.get()  # exactly one, for the whole bundle
    assert (invitation.target_kind, invitation.target_id) == ("bundle", str(parent.pk))
    assert invitation.person_id == w.applicant.pk and invitation.department_id == w.health.pk
    assert invitation.item_code == "bundle:newborn" and invitation.item_name == "新生儿出生一件事"
    assert invitation.served_at == parent.closed_at and invitation.mode == "online"
    assert not RatingInvitation.objects.filter(target_kind="case").exists()

    # the citizen rates the bundle once
    rating = services.rating_submit(
        token=services.invitation_token(invitation), level=5, channel="portal", actor=w.applicant
    )
    assert rating.target_kind == "bundle" and rating.department_id == w.health.pk
    assert rating.service_state == "completed"
    with pytest.raises(Conflict):
        services.rating_submit(token=services.invitation_token(invitation), level=1, channel="portal")
    assert Rating.objects.count() == 1


def test_a_partial_outcome_is_rated_once_too(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        parent, _ = apply(w)
        parent = _finish_all(w, parent, refuse_first=True)
    assert parent.state == "partial"
    invitation = RatingInvitation.objects.get()
    assert (invitation.target_kind, invitation.target_id) == ("bundle", str(parent.pk))
    assert invitation.service_state == "partial"


def test_an_open_or_withdrawn_bundle_is_not_rateable(w, django_capture_on_commit_callbacks):
    assert "bundle" in targets.kinds()
    parent, _ = apply(w)
    with pytest.raises(Conflict) as err:
        services.invite_after_service(kind="bundle", target_id=parent.pk)
    assert err.value.code == "rating_not_yet_rateable"
    with django_capture_on_commit_callbacks(execute=True):
        bundles.bundle_withdraw(actor=w.applicant, bundle_case_id=parent.pk, reason="改为分别办理")
    assert BundleCase.objects.get(pk=parent.pk).state == "withdrawn"
    assert not RatingInvitation.objects.exists()
