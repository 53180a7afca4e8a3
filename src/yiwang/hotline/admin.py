"""Admin for the hotline's reference data (categories, 派单目录, time limits, Open311 clients); work orders are
read-only here — every change goes through the workbench or the API actions."""

from django.contrib import admin

from yiwang.core.errors import DomainError

from . import knowledge
from .models import (
    Assignment,
    Category,
    DispatchRule,
    KnowledgeEntry,
    Open311Client,
    OrderEvent,
    TimeLimit,
    WorkOrder,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "path", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["code", "name", "path"]
    raw_id_fields = ["parent"]


@admin.register(DispatchRule)
class DispatchRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "region", "department", "priority", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["category__path", "department__name"]
    raw_id_fields = ["category", "region", "department"]
    filter_horizontal = ["assist_departments"]


@admin.register(TimeLimit)
class TimeLimitAdmin(admin.ModelAdmin):
    list_display = ["kind", "urgency", "sign_value", "sign_unit", "handle_value", "handle_unit"]


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in Assignment._meta.fields]


class EventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ["event", "from_status", "to_status", "actor_label", "department", "note", "at"]
    fields = readonly_fields


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "status", "kind", "urgency", "channel", "department", "created_at"]
    list_filter = ["status", "kind", "urgency", "channel"]
    search_fields = ["number", "title"]
    inlines = [AssignmentInline, EventInline]
    exclude = ["caller_phone"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(KnowledgeEntry)
class KnowledgeEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "department_name", "valid_until", "source", "use_count", "is_active"]
    list_filter = ["is_active", "source"]
    search_fields = ["question", "keywords", "department_name"]
    raw_id_fields = ["department", "region"]
    readonly_fields = ["use_count", "source_ref", "created_at", "updated_at"]
    fields = [
        "question",
        "answer",
        "department",
        "department_name",
        "keywords",
        "region",
        "valid_from",
        "valid_until",
        "source",
        "contact_phone",
        "is_active",
        *readonly_fields,
    ]

    def save_model(self, request, obj, form, change):
        """Through the action: validation, the search text and the audit trail."""
        try:
            saved = knowledge.entry_save(
                actor=request.user,
                entry_id=obj.pk if change else None,
                question=obj.question,
                answer=obj.answer,
                department_id=obj.department_id,
                department_name=obj.department_name,
                keywords=obj.keywords,
                valid_from=obj.valid_from,
                valid_until=obj.valid_until,
                source=obj.source,
                contact_phone=obj.contact_phone,
                is_active=obj.is_active,
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level="error")
            return
        obj.pk = saved.pk


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "region", "is_active", "created_at"]
    readonly_fields = ["prefix", "key_hash", "created_at"]
