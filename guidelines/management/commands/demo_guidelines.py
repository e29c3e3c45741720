"""``manage.py demo_guidelines``: a published bilingual guideline, a project key and an attestation.

Safe to run again: each piece is added only if it is missing. The demo signing key is generated
here, used once to sign the demo attestation, and never stored anywhere.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from guidelines import services
from guidelines.models import Adoption, Attestation, Guideline, GuidelineVersion
from guidelines.statements import PAYLOAD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE
from registry.accounts.models import Organization
from registry.accounts.presence import Presence
from registry.lib.signing import dsse_sign, generate_private_key, public_jwk

PROJECT_SLUG = "open-faceswap"
GUIDELINE_SLUG = "open-faceswap-use"
RELEASE = "2.3.0"
ARTEFACT = f"open-faceswap-{RELEASE}.tar.gz"

BODY_EN = """\
# Using Open FaceSwap responsibly

Open FaceSwap can put one person's face on another person's body. That is useful for film,
art, satire and research, and it can also hurt people badly. These are the rules we ask every
user to follow, and the ones our releases are built to support.

## The short version

Use only faces you have permission to use, say clearly that the result is synthetic, and never
use the tool to deceive, to sexualise a real person, or on a child.

## What the safeguards do

Releases check a Restu consent token before they process a face, add a visible watermark and
C2PA content credentials to what they produce, and refuse faces that look like a minor's. You
can turn none of this off in the official builds.
"""

BODY_ID = """\
# Memakai Open FaceSwap secara bertanggung jawab

Open FaceSwap dapat memasang wajah seseorang pada tubuh orang lain. Ini berguna untuk film,
seni, satire, dan penelitian, tetapi juga dapat sangat merugikan orang. Inilah aturan yang kami
minta dipatuhi setiap pengguna, dan yang didukung oleh setiap rilis kami.

## Versi singkatnya

Pakailah hanya wajah yang Anda punya izin untuk memakainya, nyatakan dengan jelas bahwa hasilnya
sintetis, dan jangan pernah memakai alat ini untuk menipu, untuk menjadikan orang sungguhan objek
seksual, atau pada anak.

## Apa yang dilakukan pengamannya

Setiap rilis memeriksa token persetujuan Restu sebelum memproses wajah, menambahkan tanda air yang
terlihat dan kredensial konten C2PA pada hasilnya, serta menolak wajah yang tampak seperti wajah
anak di bawah umur. Pada versi resmi, tidak satu pun pengaman ini dapat dimatikan.
"""

CLAUSES: list[dict[str, Any]] = [
    {
        "key": "consent-of-everyone",
        "kind": "must",
        "text": "Get the consent of every person whose face or voice appears in what you make, before you make it.",
        "evidence": ["consent_token_check"],
    },
    {
        "key": "no-sexual-content-of-real-people",
        "kind": "must_not",
        "text": "Do not make sexual or nude images or videos of a real person.",
        "evidence": ["nsfw_filter"],
    },
    {
        "key": "no-deception-in-news-or-politics",
        "kind": "must_not",
        "text": "Do not use synthetic faces to deceive people about news, elections or public figures.",
        "evidence": ["public_figure_block"],
    },
    {
        "key": "label-output",
        "kind": "must",
        "text": "Label what you publish as synthetic, and keep the watermark and content credentials intact.",
        "evidence": ["visible_watermark", "c2pa_manifest", "invisible_watermark"],
    },
    {
        "key": "no-minors",
        "kind": "must_not",
        "text": "Never use the tool on images or videos of children.",
        "evidence": ["face_age_estimation"],
    },
    {
        "key": "honour-revocation",
        "kind": "should",
        "text": "When someone withdraws their consent, stop using their likeness and take down what you can.",
    },
]

CLAUSES_ID = {
    "consent-of-everyone": (
        "Dapatkan persetujuan setiap orang yang wajah atau suaranya muncul dalam karya Anda, sebelum Anda membuatnya."
    ),
    "no-sexual-content-of-real-people": (
        "Jangan membuat gambar atau video seksual maupun telanjang dari orang sungguhan."
    ),
    "no-deception-in-news-or-politics": (
        "Jangan memakai wajah sintetis untuk menipu orang tentang berita, pemilu, atau tokoh publik."
    ),
    "label-output": (
        "Tandai karya yang Anda terbitkan sebagai sintetis, dan jangan hilangkan tanda air maupun kredensial kontennya."
    ),
    "no-minors": "Jangan pernah memakai alat ini pada gambar atau video anak-anak.",
    "honour-revocation": (
        "Jika seseorang mencabut persetujuannya, berhentilah memakai rupanya "
        "dan turunkan karya yang masih bisa diturunkan."
    ),
}


class Command(BaseCommand):
    help = "Load a demo guideline, project key and attestation for the open-faceswap project (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        project = Organization.objects.filter(slug=PROJECT_SLUG).first()
        if project is None:
            call_command("demo", stdout=self.stdout)
            project = Organization.objects.get(slug=PROJECT_SLUG)
        owner = project.memberships.filter(role="owner").select_related("user").first()
        actor = owner.user if owner else None
        version = self._guideline(project, actor)
        self._adoption(version)
        self._attestation(project, actor, version)
        self.stdout.write(self.style.SUCCESS(f"Demo guideline ready at /guidelines/{GUIDELINE_SLUG}/"))

    def _guideline(self, project: Organization, actor: Any) -> GuidelineVersion:
        guideline = Guideline.objects.filter(slug=GUIDELINE_SLUG).first()
        if guideline is None:
            version = services.guideline_start(
                organization=project,
                actor_role="owner",
                actor=actor,
                slug=GUIDELINE_SLUG,
                title="Using Open FaceSwap responsibly",
                summary="What the Open FaceSwap project asks of everyone who uses it.",
                version="1.0.0",
                language="en",
                body=BODY_EN,
                clauses=CLAUSES,
                translations={"id": {"body": BODY_ID, "clauses": CLAUSES_ID}},
            )
            self.stdout.write(f"  guideline: {GUIDELINE_SLUG}@1.0.0")
        else:
            version = guideline.versions.get(version="1.0.0")
        if version.status == GuidelineVersion.Status.DRAFT:
            version = services.guideline_version_publish(version=version, actor_role="owner")
            self.stdout.write(f"  published: {version.ref} {version.digest}")
        return version

    def _adoption(self, version: GuidelineVersion) -> None:
        studio = Organization.objects.filter(slug="studio-layar-lebar").first()
        if studio is None or Adoption.objects.filter(organization=studio, version=version).exists():
            return
        if version.status == GuidelineVersion.Status.PUBLISHED:
            services.adoption_create(version=version, organization=studio, actor_role="owner", actor=None)
            self.stdout.write(f"  adoption: {studio.slug} adopts {version.ref}")

    def _attestation(self, project: Organization, actor: Any, version: GuidelineVersion) -> None:
        if Attestation.objects.filter(project=project, release_version=RELEASE).exists():
            return
        if version.status != GuidelineVersion.Status.PUBLISHED:
            return
        # A fresh key, used for this one signature and then forgotten: nothing secret is stored.
        private_key = generate_private_key()
        jwk = public_jwk(private_key)
        del jwk["kid"]
        with transaction.atomic():
            # The operator running this command at the server's console is present by definition.
            console = Presence(authenticated_at=timezone.now(), second_factor=False, method="console")
            key = services.project_key_add(
                organization=project, actor_role="owner", actor=actor, public_jwk=jwk, presence=console
            )
            statement = {
                "_type": STATEMENT_TYPE,
                "subject": [{"name": ARTEFACT, "digest": {"sha256": hashlib.sha256(ARTEFACT.encode()).hexdigest()}}],
                "predicateType": PREDICATE_TYPE,
                "predicate": {
                    "guideline": version.ref,
                    "clauses": {
                        "consent-of-everyone": "met",
                        "no-sexual-content-of-real-people": "met",
                        "no-deception-in-news-or-politics": "met",
                        "label-output": "met",
                        "no-minors": "met",
                        "honour-revocation": "not_applicable",
                    },
                    "safeguards": ["consent_token_check", "nsfw_filter", "visible_watermark", "c2pa_manifest"],
                    "release": {"version": RELEASE, "url": f"https://git.example.org/open-faceswap/releases/{RELEASE}"},
                },
            }
            envelope = dsse_sign(PAYLOAD_TYPE, json.dumps(statement).encode(), private_key, key.kid)
            attestation = services.attestation_store(project=project, actor_role="owner", envelope=envelope)
        self.stdout.write(f"  key: {key.kid}; attestation: {attestation.public_id} for {ARTEFACT}")
