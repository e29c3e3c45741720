"""The studio page of a release's Content Credentials (C2PA) assertions, ready to embed at export.

It shows what ``GET /api/v1/releases/{id}/c2pa`` gives (consent.c2pa.release_c2pa) for people: per
appearance, the CAWG training-and-data-mining uses in plain words and the assertions as JSON to
copy, then a short guide to embedding them with c2patool or c2pa-python. ``EMBED_EXAMPLE`` is the
exact Python the page shows; tests/provenance/test_c2pa_page_example.py runs it.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from consent import vocabulary as v
from consent.c2pa import ALLOWED, ENTRY_ACTIVITIES, TRAINING_MINING_LABEL, release_c2pa
from consent.models import Release, SubjectProfile
from consent.services import releases
from registry.errors import NotFound
from registry.pages import organization_context, organization_page

# The file names the guide uses; the example reads and writes exactly these.
ASSERTIONS_FILE = "restu-assertions.json"
CHAIN_FILE = "signer-chain.pem"
KEY_FILE = "signer-key.pem"
SOURCE_FILE = "export.jpg"
SIGNED_FILE = "export-signed.jpg"
SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"

# The guide's c2pa-python example, a text file of its own (it is shown to people, never run by the
# site; a test runs it): the file names above are filled in.
EMBED_EXAMPLE = Template((Path(__file__).parent / "c2pa_embed_example.py.txt").read_text(encoding="utf-8")).substitute(
    ASSERTIONS_FILE=ASSERTIONS_FILE,
    CHAIN_FILE=CHAIN_FILE,
    KEY_FILE=KEY_FILE,
    SOURCE_FILE=SOURCE_FILE,
    SIGNED_FILE=SIGNED_FILE,
    SOURCE_TYPE=SOURCE_TYPE,
)

C2PATOOL_EXAMPLE = f"""\
c2patool {SOURCE_FILE} --manifest manifest.json --output {SIGNED_FILE}
c2patool {SIGNED_FILE}"""

C2PATOOL_MANIFEST = f"""\
{{
  "alg": "es256",
  "sign_cert": "{CHAIN_FILE}",
  "private_key": "{KEY_FILE}",
  "claim_generator_info": [{{"name": "our-export-tool", "version": "1.0"}}],
  "assertions": [
    {{"label": "c2pa.actions", "data": {{"actions": [
      {{"action": "c2pa.created", "digitalSourceType": "{SOURCE_TYPE}"}}
    ]}}}},
    …
  ]
}}"""

# One phrase per CAWG use (consent.c2pa.ENTRY_ACTIVITIES), for people rather than programs.
USE_WORDS = {
    "cawg.ai_training": gettext_lazy("Training AI models with this file"),
    "cawg.ai_generative_training": gettext_lazy("Training AI models that make new media with this file"),
    "cawg.data_mining": gettext_lazy("Mining this file for data"),
    "cawg.ai_inference": gettext_lazy("Feeding this file to an AI model that changes or reuses it"),
}


def _names(release: Release, subjects: set[str]) -> dict[str, str]:
    """Each person's name as the studio gave it in the release, else their public profile name."""
    public = dict(
        SubjectProfile.objects.filter(subject__public_id__in=subjects, is_public=True).values_list(
            "subject__public_id", "display_name"
        )
    )
    given = {
        item.get("subject"): item.get("name")
        for item in release.appearances or []
        if isinstance(item, dict) and item.get("name")
    }
    return {subject: given.get(subject) or public.get(subject) or "" for subject in subjects}


def _rows(release: Release, payload: dict[str, Any]) -> list[dict[str, Any]]:
    appearances = payload["appearances"]
    names = _names(release, {row["subject"] for row in appearances})
    rows = []
    for number, row in enumerate(appearances, start=1):
        assertions = row["c2pa_assertions"]
        entries: dict[str, Any] = {}
        for assertion in assertions or []:
            if assertion["label"] == TRAINING_MINING_LABEL:
                entries = assertion["data"]["entries"]
        rows.append(
            {
                "number": number,
                "subject": row["subject"],
                "name": names.get(row["subject"], ""),
                "consent": row["consent"],
                "medium_label": v.label_of(v.MEDIA, row["medium"]),
                "purpose_label": v.label_of(v.PURPOSES, row["purpose"]),
                "json": json.dumps(assertions, indent=2, ensure_ascii=False) if assertions else "",
                "uses": [
                    {"label": label, "words": USE_WORDS[label], "allowed": entries.get(label, {}).get("use") == ALLOWED}
                    for label in ENTRY_ACTIVITIES
                ]
                if assertions
                else [],
            }
        )
    return rows


@login_required
@require_GET
def release_c2pa_page(request: HttpRequest, org_slug: str, release_id: str) -> HttpResponse:
    """A release's C2PA assertions per appearance, each with a copy button, and how to embed them."""
    organization, role = organization_page(request, org_slug)
    try:
        release = releases.release_visible(public_id=release_id, organization_ids=[organization.pk])
    except NotFound:
        raise Http404 from None
    rows = _rows(release, release_c2pa(release=release))
    return render(
        request,
        "consent/studio/release_c2pa.html",
        organization_context(
            request,
            organization,
            role,
            "releases",
            release=release,
            cleared=release.status == Release.Status.CLEARED,
            rows=rows,
            ready=[row for row in rows if row["json"]],
            embed_example=EMBED_EXAMPLE,
            c2patool_example=C2PATOOL_EXAMPLE,
            c2patool_manifest=C2PATOOL_MANIFEST,
            assertions_file=ASSERTIONS_FILE,
            chain_file=CHAIN_FILE,
            key_file=KEY_FILE,
        ),
    )
