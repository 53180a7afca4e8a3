"""Events the cases app sends after commit; higher apps (ratings) subscribe, cases imports none of them."""

from django.dispatch import Signal

# Sent after a case was completed (办结) and the transaction committed. ``case_id``: the case.
# Ratings subscribe to invite the applicant to rate the service (一事一评).
case_completed = Signal()
