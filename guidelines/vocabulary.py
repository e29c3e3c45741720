"""The fixed words of guidelines and attestations: clause kinds, clause outcomes and safeguards."""

from __future__ import annotations

from typing import Final

# Each safeguard a release can claim, named in English and in Indonesian (GLOSSARY.md:
# "safeguard" = "pengaman"). Keys are part of the API and never change; new ones may be added.
SAFEGUARDS: Final[dict[str, dict[str, str]]] = {
    "visible_watermark": {"en": "Visible watermark", "id": "Tanda air yang terlihat"},
    "invisible_watermark": {"en": "Invisible watermark", "id": "Tanda air tak kasatmata"},
    "c2pa_manifest": {"en": "C2PA content credentials", "id": "Kredensial konten C2PA"},
    "consent_token_check": {
        "en": "Checks a Restu consent token before processing a face or voice",
        "id": "Memeriksa token persetujuan Restu sebelum memproses wajah atau suara",
    },
    "nsfw_filter": {"en": "Sexual-content filter", "id": "Penyaring konten seksual"},
    "face_age_estimation": {
        "en": "Refuses faces estimated to be minors",
        "id": "Menolak wajah yang diperkirakan milik anak di bawah umur",
    },
    "audit_log": {"en": "Local audit log of processed media", "id": "Log audit lokal atas media yang diproses"},
    "rate_limit": {"en": "Rate limit on generation", "id": "Pembatasan laju pembuatan"},
    "synthetic_label": {
        "en": "Labels output as synthetic in its metadata",
        "id": "Menandai keluaran sebagai sintetis di metadatanya",
    },
    "public_figure_block": {
        "en": "Blocks well-known politicians and public figures",
        "id": "Memblokir politisi dan tokoh publik terkenal",
    },
    "usage_terms_prompt": {
        "en": "Asks the user to accept the usage guideline before first use",
        "id": "Meminta pengguna menyetujui pedoman penggunaan sebelum pemakaian pertama",
    },
}

CLAUSE_KINDS: Final[dict[str, dict[str, str]]] = {
    "must": {"en": "must", "id": "wajib"},
    "must_not": {"en": "must not", "id": "dilarang"},
    "should": {"en": "should", "id": "sebaiknya"},
}

# What a project may claim for a clause in an attestation …
CLAIMS: Final = ("met", "not_met", "not_applicable")
# … and what the registry makes of it.
EVIDENCED, ASSERTED, NOT_MET, NOT_APPLICABLE = "evidenced", "asserted", "not_met", "not_applicable"

CONTENT_LANGUAGES: Final[dict[str, str]] = {"en": "English", "id": "Bahasa Indonesia"}


def safeguard_label(key: str, language: str) -> str:
    """The safeguard's name in ``language`` (English when there is no such translation)."""
    labels = SAFEGUARDS.get(key, {})
    return labels.get(language) or labels.get("en") or key
