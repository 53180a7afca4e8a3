"""Cases as rating targets (一事一评): a completed case invites its applicant after commit; a case that is
not completed cannot be rated; the rating is attributed to the case's department, item and handler."""

import pytest

from tests.cases import factories as cf
from yiwang.cases import services as cases
from yiwang.core.errors import Conflict
from yiwang.ratings import services, targets
from yiwang.ratings.models import Rating, RatingInvitation, Rectification

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    return cf.world()


def completed(w, captured):
    case = cf.reviewed(w)
    cases.case_decide(actor=w.head, case_id=case.pk, approve=True, opinion="准予许可")
    with captured(execute=True):
        return cases.case_complete(actor=w.clerk, case_id=case.pk, delivery="online")


def test_case_target_is_registered_and_not_rateable_before_completion(w):
    assert "case" in targets.kinds()
    case = cf.accepted(w)
    target = targets.resolve("case", case.pk)
    assert target.served_at is None and target.state == "in_process" and target.mode == "online"
    with pytest.raises(Conflict) as err:
        services.invite_after_service(kind="case", target_id=case.pk)
    assert err.value.code == "rating_not_yet_rateable"


def test_completed_case_invites_and_a_bad_rating_goes_to_the_department(w, django_capture_on_commit_callbacks):
    case = completed(w, django_capture_on_commit_callbacks)
    invitation = RatingInvitation.objects.get(target_kind="case", target_id=str(case.pk))
    assert invitation.person_id == w.applicant.pk and invitation.department_id == w.dept.pk
    token = services.invitation_token(invitation)
    rating = services.rating_submit(
        token=token, level=2, channel="sms", reasons=["b_slow"], actor=w.applicant, indicators={"efficiency": 2}
    )
    assert rating.mode == "online" and rating.department == w.dept and rating.item_code == w.item.code
    assert rating.service_state == "completed" and rating.evaluator == w.applicant
    rect = Rectification.objects.get(rating=rating)
    assert rect.department == w.dept
    with pytest.raises(Conflict):
        services.rating_submit(token=token, level=5, channel="sms")
    assert Rating.objects.filter(target_kind="case").count() == 1
