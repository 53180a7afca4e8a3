"""Django admin for the catalog: 基本目录 and bundles are edited here; service items are edited in the workbench
editor (drafts, rule-checked publication), so the admin shows them read-only with a link there."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from yiwang.core import audit

from .models import Bundle, BundleMember, CatalogItem, ServiceItem, ServiceItemVersion


@admin.register(CatalogItem)
class CatalogItemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "item_type", "state", "version", "updated_at"]
    list_filter = ["item_type", "state"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    readonly_fields = ["version", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        from django.utils import timezone

        if change and form.changed_data:
            obj.version += 1
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action="catalog.directory.change" if change else "catalog.directory.create",
            obj=obj,
            summary={"code": obj.code, "fields": form.changed_data},
        )


class VersionInline(admin.TabularInline):
    model = ServiceItemVersion
    fields = ["number", "state", "published_at", "superseded_at", "withdrawn_at", "published_by_label", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "department", "region", "state", "draft_changed", "editor"]
    list_filter = ["state", "region__level"]
    search_fields = ["code", "name", "department__name"]
    list_select_related = ["department", "region"]
    inlines = [VersionInline]
    readonly_fields = [
        "code",
        "handle_item_code",
        "catalog_item",
        "department",
        "region",
        "name",
        "state",
        "current_version",
        "draft_changed",
        "editor",
        "created_at",
        "updated_at",
    ]
    exclude = ["draft"]

    @admin.display(description="编辑")
    def editor(self, obj):
        return format_html('<a href="{}">工作台编辑</a>', reverse("web:workbench_catalog_edit", args=[obj.code]))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BundleMemberInline(admin.TabularInline):
    model = BundleMember
    raw_id_fields = ["item"]
    extra = 1


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "audience", "stage", "lead_department", "state", "promised_days"]
    list_filter = ["state", "audience"]
    search_fields = ["code", "name"]
    raw_id_fields = ["lead_department", "region"]
    filter_horizontal = ["cooperating_departments", "windows"]
    inlines = [BundleMemberInline]
    readonly_fields = ["published_at", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action="catalog.bundle.save",
            obj=obj,
            region_code=obj.region_id,
            summary={"code": obj.code, "fields": form.changed_data},
        )
