from django.contrib import admin

from .models import EvaluatorDevice, LedgerEntry, Rating, Rectification, RectificationEvent, ServiceContact


@admin.register(ServiceContact)
class ServiceContactAdmin(admin.ModelAdmin):
    list_display = ("id", "window", "department", "item_name", "started_at", "ended_at")
    list_filter = ("hall",)
    raw_id_fields = ("window", "hall", "department", "staff", "person")
    exclude = ("phone_encrypted",)


@admin.register(EvaluatorDevice)
class EvaluatorDeviceAdmin(admin.ModelAdmin):
    list_display = ("name", "window", "key_prefix", "created_at", "last_seen_at", "revoked_at")
    readonly_fields = ("key_prefix", "key_hash", "created_at", "last_seen_at")
    raw_id_fields = ("window",)


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    """Read-only: ratings change only through the actions (appeal review excludes them)."""

    list_display = ("id", "level", "channel", "kind", "department", "item_name", "rated_at", "excluded_at")
    list_filter = ("level", "channel", "kind", "is_default")
    exclude = ("evaluator", "evaluator_name", "evaluator_phone_encrypted", "phone_hash", "device_hash")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = RectificationEvent
    extra = 0
    can_delete = False
    readonly_fields = ("event", "from_state", "to_state", "actor_label", "note", "at")
    exclude = ("actor", "data")


@admin.register(Rectification)
class RectificationAdmin(admin.ModelAdmin):
    list_display = ("id", "department", "state", "classification", "feedback_due", "closed_at")
    list_filter = ("state", "classification")
    inlines = [EventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ("rectification", "responsible", "deadline", "completed_at")

    def has_change_permission(self, request, obj=None):
        return False
