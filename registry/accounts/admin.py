from django.contrib import admin

from registry.accounts.models import ApiKey, Membership, Organization, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["email", "display_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["public_id", "password", "last_login", "date_joined"]


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "slug", "kind", "created"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "prefix", "organization", "created", "last_used_at", "revoked_at"]
    readonly_fields = ["public_id", "prefix", "digest", "created", "last_used_at"]
