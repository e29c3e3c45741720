"""Staff views of subjects, consents and disputes; changes go through services, never raw saves."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from consent import services
from consent.models import AccessLogEntry, Consent, Dispute, Representative, Subject
from registry.authenticated import AuthenticatedHttpRequest
from registry.errors import DomainError


class HandOverForm(forms.Form):
    email = forms.EmailField(label="The person's own email address")


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs: ModelAdmin[...] fails at run time
    """Signed records change only through services (invariant 1), so staff read them here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Subject)
class SubjectAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "status", "adult_on", "assurance", "disputed", "created"]
    list_filter = ["status", "assurance", "disputed"]
    search_fields = ["public_id"]
    actions = ["end_guardianships", "refresh_assurance", "hand_over"]

    @admin.action(description="End the guardianships of the selected people who have come of age")
    def end_guardianships(self, request: HttpRequest, queryset: QuerySet[Subject]) -> None:
        ended = sum(services.guardianships_end_for(subject=subject) for subject in queryset)
        self.message_user(request, f"Ended {ended} guardianship(s).")

    @admin.action(description="Invite a person who has come of age to take their record over")
    def hand_over(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Subject]) -> TemplateResponse | None:
        """Asks for the person's email address, then sends the invitation; they must accept it."""
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one person.", messages.ERROR)
            return None
        subject = queryset.get()
        form = HandOverForm(request.POST if "email" in request.POST else None)
        if form.is_valid():
            try:
                services.subject_hand_over_invite(
                    subject=subject,
                    email=form.cleaned_data["email"],
                    staff_user=request.user,
                    base_url=request.build_absolute_uri("/"),
                )
            except DomainError as exc:
                self.message_user(request, exc.detail, messages.ERROR)
            else:
                self.message_user(request, f"Invitation sent for {subject.public_id}; the person must accept it.")
            return None
        context = {**self.admin_site.each_context(request), "subject": subject, "form": form, "title": "Hand over"}
        return TemplateResponse(request, "admin/consent/subject/hand_over.html", context)

    @admin.action(description="Recompute the assurance (only vouches from verified guilds and agencies count)")
    def refresh_assurance(self, request: HttpRequest, queryset: QuerySet[Subject]) -> None:
        for subject in queryset:
            with transaction.atomic():
                services.subject_assurance_refresh(subject=subject)
        self.message_user(request, f"Recomputed {queryset.count()} subject(s).")


@admin.register(Representative)
class RepresentativeAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "subject", "role", "powers_held", "valid_until", "ended_at"]
    list_filter = ["role"]
    search_fields = ["public_id", "subject__public_id"]

    @admin.display(description="powers")
    def powers_held(self, rep: Representative) -> str:
        return ", ".join(rep.effective_powers)


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "subject", "effect", "status", "grantee", "valid_from", "valid_until"]
    list_filter = ["status", "effect"]
    search_fields = ["public_id", "subject__public_id", "grantee"]


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["subject", "kind", "caller_org", "decision", "created"]
    list_filter = ["kind", "decision"]
    list_select_related = ["subject", "caller_org"]
    # The log grows by one row per check (10^8 a year at 3 a second): never count it whole per page.
    show_full_result_count = False


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "subject", "kind", "status", "created", "resolved_at"]
    list_filter = ["status", "kind"]
    search_fields = ["public_id", "subject__public_id"]
    actions = ["resolve"]

    @admin.action(description="Resolve the selected disputes (thaws the subject's permits when none is left open)")
    def resolve(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Dispute]) -> None:
        # Admin actions run behind the admin site's staff login, so request.user is a User.
        done = 0
        for dispute in queryset.select_related("subject"):
            try:
                services.dispute_resolve(dispute=dispute, staff_user=request.user, resolution="Resolved by staff.")
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{dispute.public_id}: {exc.detail}", level=messages.WARNING)
        self.message_user(request, f"Resolved {done} dispute(s).")
