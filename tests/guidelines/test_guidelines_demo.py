"""The demo command: a published bilingual guideline, a key and a verified attestation, loaded once."""

from __future__ import annotations

import io

from django.core.management import call_command

from guidelines.models import Attestation, Guideline, GuidelineVersion, ProjectKey
from registry.transparency.models import LogEntry


def test_demo_guidelines_loads_a_bilingual_published_guideline_and_an_attestation(db):
    call_command("demo_guidelines", stdout=io.StringIO())

    version = GuidelineVersion.objects.get(guideline__slug="open-faceswap-use")
    assert version.status == "published"
    assert version.guideline.organization.slug == "open-faceswap"
    keys = {clause["key"] for clause in version.clauses}
    assert {"consent-of-everyone", "no-sexual-content-of-real-people", "no-minors", "label-output"} <= keys
    assert set(version.translations["id"]["clauses"]) == keys
    attestation = Attestation.objects.get()
    assert attestation.results["label-output"] == "evidenced"
    assert attestation.key.organization.slug == "open-faceswap"
    assert LogEntry.objects.filter(type="attestation.stored").count() == 1


def test_demo_guidelines_is_idempotent(db):
    call_command("demo_guidelines", stdout=io.StringIO())
    leaves = LogEntry.objects.count()

    call_command("demo_guidelines", stdout=io.StringIO())

    assert Guideline.objects.count() == 1
    assert ProjectKey.objects.count() == 1
    assert Attestation.objects.count() == 1
    assert LogEntry.objects.count() == leaves
