"""The permission policy: one place that answers "may this user do this action on this object".

Domain apps register rules at start-up (``rules.py`` imported from ``AppConfig.ready``)::

    @policy.rule("case.accept")
    def _(user, case) -> bool: ...

    @policy.scope("case.view")
    def _(user, queryset): return queryset.filter(...)

Views, the API, the admin and actions call :meth:`Policy.require`, :meth:`Policy.allows` and
:meth:`Policy.filter`; nothing else checks permissions. Unknown actions are denied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

from .actors import is_system
from .errors import NotAuthenticated, PermissionDenied

Rule = Callable[[Any, Any], bool]
Scope = Callable[[Any, QuerySet], QuerySet]


class Policy:
    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}
        self._scopes: dict[str, Scope] = {}

    def rule(self, action: str) -> Callable[[Rule], Rule]:
        def register(fn: Rule) -> Rule:
            if action in self._rules:
                raise RuntimeError(f"permission rule {action!r} registered twice")
            self._rules[action] = fn
            return fn

        return register

    def scope(self, action: str) -> Callable[[Scope], Scope]:
        def register(fn: Scope) -> Scope:
            if action in self._scopes:
                raise RuntimeError(f"permission scope {action!r} registered twice")
            self._scopes[action] = fn
            return fn

        return register

    @property
    def actions(self) -> list[str]:
        return sorted(set(self._rules) | set(self._scopes))

    def allows(self, user: Any, action: str, obj: Any = None) -> bool:
        rule = self._rules.get(action)
        if rule is None:
            return False
        if user is None or not getattr(user, "is_active", False):
            return False
        if is_system(user):
            return True
        return bool(rule(user, obj))

    def require(self, user: Any, action: str, obj: Any = None) -> None:
        if user is None or not getattr(user, "is_authenticated", False):
            raise NotAuthenticated()
        if not self.allows(user, action, obj):
            raise PermissionDenied(details={"action": action})

    def filter(self, user: Any, action: str, queryset: QuerySet) -> QuerySet:
        """Restrict ``queryset`` to the rows ``user`` may ``action``; empty for unknown actions."""
        scope = self._scopes.get(action)
        if scope is None or user is None or not getattr(user, "is_active", False):
            return queryset.none()
        if is_system(user):
            return queryset
        return scope(user, queryset)


policy = Policy()
