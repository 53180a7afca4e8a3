"""Reads about cases: my cases, staff queues, case detail, the timeline, messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Count, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.sql.datastructures import BaseTable

from yiwang.accounts.models import StaffMembership, User
from yiwang.accounts.roles import Role
from yiwang.core.errors import NotFound, ValidationFailed
from yiwang.core.permissions import policy

from . import clock, rules
from .models import Case, CaseDocument, CaseEvent, Message
from .states import ACTORS, Action, Party, State, _, actions_from


def visible_cases(*, user: Any) -> QuerySet[Case]:
    return policy.filter(user, "case.view", Case.objects.all())


def case_get(*, user: Any, case_id: int) -> Case:
    """One case the user may see (``case_not_found`` otherwise, never saying whether it exists)."""
    case = (
        Case.objects.select_related("item", "version", "department", "applicant", "filed_by", "handler", "window")
        .filter(pk=case_id)
        .first()
    )
    if case is None or not policy.allows(user, "case.view", case):
        if not getattr(user, "is_authenticated", False):
            policy.require(user, "case.view", case)
        if case is not None:
            from .agents import explain_refusal

            explain_refusal(user, case)  # an agent whose authorisation lapsed is told so
        raise NotFound("办件不存在或您无权查看。", code="case_not_found", details={"case_id": case_id})
    return case


def my_cases(*, user: Any, state: str | None = None) -> QuerySet[Case]:
    """The applicant's own cases (and those filed for principals who authorised them), newest first."""
    qs = visible_cases(user=user).select_related("department")
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


# --- staff queues ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    key: str
    label: str


QUEUES: list[Queue] = [
    Queue("pretrial", _("待预审")),
    Queue("to_accept", _("待受理")),
    Queue("supplement", _("补正中")),
    Queue("in_process", _("在办")),
    Queue("special", _("特别程序")),
    Queue("at_risk", _("即将超期")),
    Queue("overdue", _("已超期")),
    Queue("to_deliver", _("待出件")),
    Queue("extensions", _("延期待审批")),
]
QUEUE_KEYS = [q.key for q in QUEUES]


def queue_filter(key: str, *, on: dt.date | None = None) -> Q:
    """The rows of one queue. 即将超期/已超期 compare stored dates with today (indexed, no per-row work)."""
    on = on or clock.today()
    match key:
        case "pretrial":
            return Q(state=State.SUBMITTED)
        case "to_accept":
            return Q(state=State.RECEIVED)
        case "supplement":
            return Q(state__in=[State.SUPPLEMENT, State.REVIEW_SUPPLEMENT])
        case "in_process":
            return Q(state=State.IN_PROCESS)
        case "special":
            return Q(state=State.SPECIAL)
        case "at_risk":
            return Q(state=State.IN_PROCESS, yellow_on__lte=on, promised_due__gte=on)
        case "overdue":
            return Q(state=State.IN_PROCESS, promised_due__lt=on)
        case "to_deliver":
            return Q(state=State.DECIDED)
        case "extensions":
            return Q(state__in=[State.IN_PROCESS, State.REVIEW_SUPPLEMENT, State.SPECIAL], extensions__status="pending")
    raise NotFound("队列不存在。", code="queue_not_found", details={"queue": key, "allowed": QUEUE_KEYS})


QUEUE_ORDER = {
    "at_risk": ("promised_due", "id"),
    "overdue": ("promised_due", "id"),
    "in_process": ("promised_due", "id"),
    "to_accept": ("received_at", "id"),
    "pretrial": ("submitted_at", "id"),
}
# Queues read in case_queue_due_idx order: (promised_due, id) over in_process cases.
DUE_QUEUES = frozenset({"at_risk", "overdue", "in_process"})
DUE_INDEX = "case_queue_due_idx"


class _IndexedTable(BaseTable):
    """``FROM "cases_case" INDEXED BY <index>`` on SQLite, the plain table elsewhere.

    SQLite's planner judges ``state = 'in_process'`` by the *average* rows per state (ANALYZE's sqlite_stat1),
    so with most open cases in process it picks the (state, region) index and sorts a whole region's cases
    (seconds at a million rows) instead of reading the first 50 entries of the queue index in order (about a
    millisecond). PostgreSQL has per-value statistics and picks the queue index by itself.
    """

    def __init__(self, table_name: str, alias: str | None, index: str):
        super().__init__(table_name, alias)
        self.index = index

    def as_sql(self, compiler, connection):
        sql, params = super().as_sql(compiler, connection)
        if connection.vendor == "sqlite":
            sql += f" INDEXED BY {connection.ops.quote_name(self.index)}"
        return sql, params

    def relabeled_clone(self, change_map):
        return self.__class__(self.table_name, change_map.get(self.table_alias, self.table_alias), self.index)

    @property
    def identity(self):
        return self.__class__, self.table_name, self.table_alias, self.index


def _in_due_order(qs: QuerySet[Case]) -> QuerySet[Case]:
    """The queryset reading cases through the queue index (a hint only SQLite needs; see _IndexedTable)."""
    # the partial index's condition as a literal: SQLite matches a partial index against literal terms only,
    # never against a bound parameter (the queue filter's ``state = %s``)
    table = connection.ops.quote_name(Case._meta.db_table)
    qs = qs.filter(RawSQL(f"{table}.\"state\" = '{State.IN_PROCESS.value}'", [], output_field=BooleanField()))  # noqa: S611 - constants
    alias = qs.query.get_initial_alias()
    qs.query.unref_alias(alias)
    table = qs.query.alias_map[alias]
    qs.query.alias_map[alias] = _IndexedTable(table.table_name, table.table_alias, DUE_INDEX)
    return qs


def parse_cursor(value: str) -> tuple[dt.date, int]:
    """A keyset cursor ``YYYY-MM-DD.<id>``: the promised due date and id of the last row already shown."""
    try:
        day, _, pk = value.partition(".")
        return dt.date.fromisoformat(day), int(pk)
    except ValueError:
        raise ValidationFailed(
            "翻页游标格式应为“日期.编号”。", code="invalid_cursor", details={"after": value}
        ) from None


def cursor_of(case: Case) -> str:
    return f"{case.promised_due.isoformat()}.{case.pk}" if case.promised_due else ""


def queue(
    *,
    user: Any,
    key: str,
    region_prefix: str | None = None,
    on: dt.date | None = None,
    after: tuple[dt.date, int] | None = None,
) -> QuerySet[Case]:
    """One staff queue within the user's scope, most urgent first.

    ``after`` (keyset pagination, due-date queues only): the rows after this (promised_due, id), read straight
    from the queue index however deep the page, instead of counting past an offset.
    """
    policy.require(user, "case.queues")
    qs = visible_cases(user=user).filter(queue_filter(key, on=on))
    if region_prefix:
        qs = qs.filter(rules.range_q([region_prefix], "region_code"))
    if key in DUE_QUEUES:
        if after is not None:
            due, pk = after
            qs = qs.filter(Q(promised_due__gt=due) | Q(promised_due=due, id__gt=pk), promised_due__gte=due)
        qs = _in_due_order(qs)
    elif after is not None:
        raise ValidationFailed("该队列不支持游标翻页。", code="cursor_not_supported", details={"queue": key})
    return qs.select_related("department").order_by(*QUEUE_ORDER.get(key, ("-updated_at", "-id")))


COUNT_CAP = 10_000


def queue_counts(*, user: Any, on: dt.date | None = None, cap: int = COUNT_CAP) -> dict[str, int]:
    """Rows per queue, counted up to ``cap`` (shown as “10000+”): bounded work however long a queue gets."""
    policy.require(user, "case.queues")
    base = visible_cases(user=user)
    counts = {}
    for q in QUEUES:
        rows = base.filter(queue_filter(q.key, on=on))
        if q.key == "extensions":
            rows = rows.distinct()
        if q.key in DUE_QUEUES:
            rows = _in_due_order(rows)
        counts[q.key] = rows.values("pk")[:cap].count()
    return counts


# --- detail ---------------------------------------------------------------------------------------------


def timeline(*, user: Any, case: Case) -> list[CaseEvent]:
    """The case's events in order; applicants see the public ones."""
    qs = case.events.select_related(None).order_by("at", "id")
    if not (rules.parties(user, case) - {Party.APPLICANT}) and not getattr(user, "is_system", False):
        qs = qs.filter(public=True)
    return list(qs)


def documents_of(*, user: Any, case: Case) -> list[CaseDocument]:
    return [d for d in case.documents.order_by("issued_at", "id") if policy.allows(user, "case.document.view", d)]


def document_get(*, user: Any, number: str) -> CaseDocument:
    doc = CaseDocument.objects.select_related("case", "case__department", "case__item").filter(number=number).first()
    if doc is None or not policy.allows(user, "case.document.view", doc):
        raise NotFound("文书不存在或您无权查看。", code="document_not_found")
    return doc


def allowed_actions(*, user: Any, case: Case) -> list[Action]:
    """The actions this user may take on this case now (what the workbench and portal offer)."""
    found = rules.parties(user, case)
    possible = [a for a in actions_from(case.state, found) if ACTORS[a] & found and a is not Action.SAVE_DRAFT]
    if not possible:
        return []
    pending = case.extensions.filter(status="pending").exists()
    unanswered = case.supervisions.filter(feedback_at__isnull=True).exists()
    hidden = {
        Action.REQUEST_EXTENSION: pending,
        Action.APPROVE_EXTENSION: not pending,
        Action.REJECT_EXTENSION: not pending,
        Action.SUPERVISE_FEEDBACK: not unanswered,
    }
    return [a for a in possible if not hidden.get(a, False)]


def department_heads(case: Case) -> list[User]:
    ids = StaffMembership.objects.filter(
        department_id=case.department_id, role=Role.DEPT_HEAD, is_active=True
    ).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=list(ids), is_active=True))


def back_office_staff(case: Case) -> list[User]:
    ids = StaffMembership.objects.filter(
        department_id=case.department_id, role__in=[Role.REVIEWER, Role.DEPT_HEAD], is_active=True
    ).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=list(ids), is_active=True))


# --- messages -------------------------------------------------------------------------------------------


def messages_for(*, user: Any, unread_only: bool = False) -> QuerySet[Message]:
    qs = Message.objects.filter(user_id=user.pk).select_related("case")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def unread_count(*, user: Any) -> int:
    return Message.objects.filter(user_id=user.pk, read_at__isnull=True).count()


def state_counts(*, user: Any) -> dict[str, int]:
    rows = visible_cases(user=user).values("state").annotate(n=Count("id"))
    return {r["state"]: r["n"] for r in rows}
