from django.contrib import admin

from yiwang.core.errors import DomainError

from . import services
from .models import HotSearch, SearchClick, SearchLog, Synonym, ZeroResultQuery


class _ManagedAdmin(admin.ModelAdmin):
    def _allowed(self, request) -> bool:
        from yiwang.core.permissions import policy

        return policy.allows(request.user, "search.manage")

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)


@admin.register(Synonym)
class SynonymAdmin(_ManagedAdmin):
    list_display = ["term", "alternatives", "two_way", "weight", "is_active", "updated_at"]
    list_filter = ["is_active", "two_way"]
    search_fields = ["term", "alternatives", "note"]
    fields = ["term", "alternatives", "two_way", "weight", "is_active", "note"]

    def save_model(self, request, obj, form, change):
        try:
            saved = services.synonym_set(
                actor=request.user,
                term=obj.term,
                alternatives=obj.alternative_list(),
                two_way=obj.two_way,
                weight=obj.weight,
                is_active=obj.is_active,
                note=obj.note,
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level="error")
            return
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.synonym_delete(actor=request.user, synonym_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            services.synonym_delete(actor=request.user, synonym_id=pk)


@admin.register(HotSearch)
class HotSearchAdmin(_ManagedAdmin):
    list_display = ["term", "pinned", "hidden", "position", "updated_at"]
    list_filter = ["pinned", "hidden"]
    search_fields = ["term"]
    fields = ["term", "pinned", "hidden", "position", "note"]

    def save_model(self, request, obj, form, change):
        try:
            saved = services.hot_search_set(
                actor=request.user,
                term=obj.term,
                pinned=obj.pinned,
                hidden=obj.hidden,
                position=obj.position,
                note=obj.note,
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level="error")
            return
        obj.pk = saved.pk


@admin.register(ZeroResultQuery)
class ZeroResultQueryAdmin(_ManagedAdmin):
    list_display = ["query", "count", "last_seen", "last_region", "handled", "note"]
    list_filter = ["handled"]
    search_fields = ["query"]
    readonly_fields = ["query", "count", "first_seen", "last_seen", "last_region"]
    fields = ["query", "count", "first_seen", "last_seen", "last_region", "handled", "note"]
    actions = ["mark_handled"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="标记为已处理")
    def mark_handled(self, request, queryset):
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            services.zero_result_handle(actor=request.user, query_id=pk)

    def save_model(self, request, obj, form, change):
        if obj.handled:
            services.zero_result_handle(actor=request.user, query_id=obj.pk, note=obj.note)


@admin.register(SearchLog)
class SearchLogAdmin(_ManagedAdmin):
    list_display = ["created_at", "query", "results", "region_code", "channel", "took_ms"]
    list_filter = ["channel"]
    search_fields = ["query"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SearchClick)
class SearchClickAdmin(SearchLogAdmin):
    list_display = ["created_at", "kind", "code", "query"]
    list_filter = ["kind"]
    search_fields = ["code", "query"]
