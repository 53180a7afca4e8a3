"""Permission rules for search administration (同义词、热门搜索、无结果检索词、重建索引)."""

from __future__ import annotations

from yiwang.accounts.roles import Role
from yiwang.accounts.selectors import has_role
from yiwang.core.permissions import policy


@policy.rule("search.manage")
def _(user, obj=None) -> bool:
    return user.is_superuser or has_role(user, Role.CATALOG_ADMIN, Role.SUPERVISOR)
