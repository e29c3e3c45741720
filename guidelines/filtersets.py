"""Query filters for the public attestation list (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from guidelines.models import Attestation


class AttestationFilter(django_filters.FilterSet):
    """``?project=org_…&digest=sha256:…&guideline=slug@version&revoked=false``."""

    project = django_filters.CharFilter(field_name="project__public_id")
    digest = django_filters.CharFilter(method="filter_digest")
    guideline = django_filters.CharFilter(method="filter_guideline")
    revoked = django_filters.BooleanFilter(field_name="revoked_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Attestation
        fields = ["project", "digest", "guideline", "revoked"]

    def filter_digest(self, queryset: QuerySet[Attestation], name: str, value: str) -> QuerySet[Attestation]:
        return queryset.filter(subjects__digest=value).distinct()

    def filter_guideline(self, queryset: QuerySet[Attestation], name: str, value: str) -> QuerySet[Attestation]:
        slug, _, version = value.partition("@")
        return queryset.filter(guideline_version__guideline__slug=slug, guideline_version__version=version)
