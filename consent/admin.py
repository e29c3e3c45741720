"""Staff views of subjects, consents and disputes; changes go through services, never raw saves."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from consent import services
from consent.models import AccessLogEntry, Consent, Dispute, Subject
from registry.errors import DomainError


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Signed records change only through services (invariant 1), so staff read them here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Subject)
class SubjectAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "status", "assurance", "disputed", "created"]
    list_filter = ["status", "assurance", "disputed"]
    search_fields = ["public_id"]


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "subject", "effect", "status", "grantee", "valid_from", "valid_until"]
    list_filter = ["status", "effect"]
    search_fields = ["public_id", "subject__public_id", "grantee"]


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["subject", "kind", "caller_org", "decision", "created"]
    list_filter = ["kind", "decision"]


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "subject", "kind", "status", "created", "resolved_at"]
    list_filter = ["status", "kind"]
    search_fields = ["public_id", "subject__public_id"]
    actions = ["resolve"]

    @admin.action(description="Resolve the selected disputes (thaws the subject's permits when none is left open)")
    def resolve(self, request: HttpRequest, queryset: QuerySet[Dispute]) -> None:
        done = 0
        for dispute in queryset.select_related("subject"):
            try:
                services.dispute_resolve(dispute=dispute, staff_user=request.user, resolution="Resolved by staff.")
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{dispute.public_id}: {exc.detail}", level=messages.WARNING)
        self.message_user(request, f"Resolved {done} dispute(s).")
