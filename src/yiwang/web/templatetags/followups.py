"""Template tags for the follow-up panels on the case pages and the savings of a bundle page."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("cases/_followups.html", takes_context=True)
def case_followups(context, case):
    """容缺/告知承诺/核查/撤销/出件/一件事 panels for ``case`` (portal and workbench)."""
    from yiwang.web.views.followups import case_panel

    request = context["request"]
    return {**case_panel(request.user, case), "request": request, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("cases/_bundle_savings_tag.html")
def bundle_savings(bundle, answers):
    """What filing the bundle saves against filing its members one by one (for the current answers)."""
    from yiwang.cases.bundles import bundle_plan
    from yiwang.core.errors import DomainError
    from yiwang.web.views.bundles import savings_rows

    try:
        plan = bundle_plan(bundle=bundle, answers={k: v for k, v in (answers or {}).items() if v})
    except DomainError:
        return {"savings": [], "bundle": bundle, "answered": False}
    return {"savings": savings_rows(plan.savings), "bundle": bundle, "answered": True, "answers": plan.answers}
