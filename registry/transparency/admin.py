from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from registry.transparency.models import Checkpoint, LogEntry


@admin.register(LogEntry)
class LogEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs: ModelAdmin[...] fails at run time
    list_display = ["index", "type", "ref", "at"]
    list_filter = ["type"]
    search_fields = ["ref"]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # the log is append-only, for staff too

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Checkpoint)
class CheckpointAdmin(LogEntryAdmin):
    list_display = ["size", "kid", "created"]
    list_filter = []
    search_fields = []
