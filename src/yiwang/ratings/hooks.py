"""Optional targets: cases (一事一评) and 12345 work orders, when those apps are installed.

Ratings sit above cases and hotline in the import order, so this module may import them; they never
import ratings. They announce "the service happened" with an on-commit event, and we invite a rating.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def connect() -> None:
    """Register the target types and subscribe to the events of the apps that are installed."""
