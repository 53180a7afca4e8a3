"""Events the hotline app sends after commit; higher apps (ratings) subscribe, hotline imports none of them."""

from django.dispatch import Signal

# Sent after a work order was finished — 办结 after 回访/归档 (``closed``) or answered directly from the
# knowledge base (``answered``) — and the transaction committed. ``order_id``: the work order.
order_finished = Signal()
