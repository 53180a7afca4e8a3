"""Permission rules for cases (办件), their files and queues."""

from __future__ import annotations

from yiwang.core.permissions import policy


@policy.rule("cases.file.upload")
def _(user, obj) -> bool:
    """Any signed-in applicant or staff member may upload a file (it is private to them until attached)."""
    return bool(getattr(user, "is_authenticated", False))


@policy.rule("cases.file.view")
def _(user, stored) -> bool:
    """The uploader, or whoever may view a case the file is attached to."""
    if stored is None:
        return False
    if stored.owner_id == user.pk:
        return True
    return user.is_superuser
