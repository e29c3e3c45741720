"""Provenance: consent carried in the media (C2PA), and "check a file" for anyone."""

from django.apps import AppConfig


class ProvenanceConfig(AppConfig):
    """Reads C2PA manifests and checks the Restu consent claims they carry."""

    name = "provenance"
    verbose_name = "Provenance"
