"""Read-mostly admin: published content and signed records are changed only through services."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from guidelines.models import Adoption, Attestation, ControlProof, Guideline, GuidelineVersion, ProjectKey


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs: ModelAdmin[...] fails at run time
    """Staff may look; every change goes through a service so it is logged."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Guideline)
class GuidelineAdmin(ReadOnlyAdmin):
    list_display = ["slug", "title", "organization", "created"]
    search_fields = ["slug", "title"]


@admin.register(GuidelineVersion)
class GuidelineVersionAdmin(ReadOnlyAdmin):
    list_display = ["guideline", "version", "status", "published_at", "digest"]
    list_filter = ["status"]


@admin.register(Adoption)
class AdoptionAdmin(ReadOnlyAdmin):
    list_display = ["organization", "version", "created"]


@admin.register(ProjectKey)
class ProjectKeyAdmin(ReadOnlyAdmin):
    list_display = ["kid", "organization", "created", "retired_at"]


@admin.register(ControlProof)
class ControlProofAdmin(ReadOnlyAdmin):
    list_display = ["organization", "kind", "target", "status", "checked_at"]


@admin.register(Attestation)
class AttestationAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "project", "guideline_version", "release_version", "created", "revoked_at"]
