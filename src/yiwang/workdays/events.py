"""Events other apps may subscribe to (sent after commit)."""

from django.dispatch import Signal

# Sent after the working-day calendar changed. ``years``: the years whose days changed.
# Cases subscribe to recompute the deadlines that depended on those years.
calendar_changed = Signal()
