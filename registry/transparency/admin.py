from django.contrib import admin

from registry.transparency.models import Checkpoint, LogEntry


@admin.register(LogEntry)
class LogEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["index", "type", "ref", "at"]
    list_filter = ["type"]
    search_fields = ["ref"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # the log is append-only, for staff too

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(Checkpoint)
class CheckpointAdmin(LogEntryAdmin):
    list_display = ["size", "kid", "created"]
    list_filter = []
    search_fields = []
