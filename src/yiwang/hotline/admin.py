"""Admin for the hotline's reference data (categories, 派单目录, time limits, Open311 clients); work orders are
read-only here — every change goes through the workbench or the API actions."""

from django.contrib import admin

from .models import Assignment, Category, DispatchRule, OrderEvent, TimeLimit, WorkOrder


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
