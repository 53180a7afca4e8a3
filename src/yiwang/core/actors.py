"""Non-human actors: the system itself (CLI commands, scheduled jobs)."""

from __future__ import annotations


class SystemActor:
    """系统 — the platform acting on its own (imports, scheduled jobs, the CLI).

    Only code running inside the trusted process can hold one; no request ever becomes a SystemActor.
    The permission policy allows it everything; the audit trail records it by ``label``.
    """

    is_authenticated = True
    is_active = True
    is_staff = True
    is_superuser = False
    is_system = True
    pk = None
    id = None

    def __init__(self, label: str = "system") -> None:
        self.label = label

    def get_username(self) -> str:
        return self.label

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"SystemActor({self.label!r})"


SYSTEM = SystemActor("system")


def is_system(actor: object) -> bool:
    return isinstance(actor, SystemActor)
