from django.contrib import admin

from yiwang.core.errors import DomainError

from . import services
from .models import CalendarDay, CalendarYear


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "is_workday", "region_code", "source", "updated_at"]
    list_filter = ["is_workday", "source"]
    search_fields = ["name", "date", "region_code"]
    date_hierarchy = "date"
    readonly_fields = ["source", "updated_at"]
    fields = ["date", "is_workday", "name", "region_code", "note", "source", "updated_at"]

    def save_model(self, request, obj, form, change):
        if change and ("date" in form.changed_data or "region_code" in form.changed_data):
            old = CalendarDay.objects.get(pk=obj.pk)
            services.calendar_day_delete(actor=request.user, day_id=old.pk)
        try:
            saved = services.calendar_day_set(
                actor=request.user,
                date=obj.date,
                is_workday=obj.is_workday,
                name=obj.name,
                region_code=obj.region_code,
                note=obj.note,
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level="error")
            return
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.calendar_day_delete(actor=request.user, day_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            services.calendar_day_delete(actor=request.user, day_id=pk)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "published", "updated_at"]
    fields = ["year", "published", "papers"]

    def save_model(self, request, obj, form, change):
        saved = services.calendar_year_set(
            actor=request.user, year=obj.year, published=obj.published, papers=obj.papers or []
        )
        obj.pk = saved.pk
