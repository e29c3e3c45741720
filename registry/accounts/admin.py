from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from registry.accounts import services
from registry.accounts.models import ApiKey, Invitation, Membership, Organization, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs: ModelAdmin[...] fails at run time
    list_display = ["email", "display_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["public_id", "password", "last_login", "date_joined"]


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]  # generic only in django-stubs: TabularInline[...] fails at run time
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs: ModelAdmin[...] fails at run time
    list_display = ["name", "slug", "kind", "verified_at", "created"]
    list_filter = ["kind", ("verified_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "slug"]
    # Verification changes only through the actions below: each is logged and announced.
    readonly_fields = ["public_id", "verified_at", "created"]
    inlines = [MembershipInline]
    actions = ["verify_organizations", "withdraw_verification"]

    @admin.action(description=_("Verify the selected organizations (logged)"))
    def verify_organizations(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        for organization in queryset:
            services.organization_verify(organization=organization, staff_user=request.user)  # type: ignore[arg-type]  # the admin site signs in staff Users only
        self.message_user(request, _("Verified; each verification is in the log."), messages.SUCCESS)

    @admin.action(description=_("Withdraw the verification of the selected organizations (logged)"))
    def withdraw_verification(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        for organization in queryset:
            services.organization_verification_withdraw(organization=organization, staff_user=request.user)  # type: ignore[arg-type]  # as above
        self.message_user(request, _("Verification withdrawn; each withdrawal is in the log."), messages.SUCCESS)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs: ModelAdmin[...] fails at run time
    list_display = ["name", "prefix", "organization", "created", "last_used_at", "revoked_at"]
    readonly_fields = ["public_id", "prefix", "digest", "membership", "created", "last_used_at"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs: ModelAdmin[...] fails at run time
    list_display = ["public_id", "kind", "target", "created", "expires_at", "accepted_at", "cancelled_at"]
    list_filter = ["kind"]
    search_fields = ["public_id", "target"]
    # Invitations are made and accepted by people, never edited: the emailed token is their proof.
    readonly_fields = [
        "public_id",
        "kind",
        "email",
        "target",
        "payload",
        "token_hash",
        "created_by",
        "created",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "cancelled_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
