"""Shapes of the provenance API (documentation for the OpenAPI schema; the services build the dicts)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class ProvenanceCheckIn(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="The media file, as a multipart part named `file` (100 MiB at most).")


class ProvenanceSignerOut(serializers.Serializer[Any]):
    common_name = serializers.CharField(allow_null=True)
    issuer = serializers.CharField(allow_null=True)
    alg = serializers.CharField(allow_null=True)
    time = serializers.CharField(allow_null=True)
    trusted = serializers.BooleanField()


class ProvenanceC2paOut(serializers.Serializer[Any]):
    present = serializers.BooleanField()
    validation_state = serializers.ChoiceField(choices=["Invalid", "Valid", "Trusted"], allow_null=True)
    signer = ProvenanceSignerOut(allow_null=True)
    # The contract's name; the metaclass takes declared fields off the class, so .errors still works.
    errors = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]  # see above


class ProvenanceConsentClaimOut(serializers.Serializer[Any]):
    consent = serializers.CharField(allow_null=True)
    subject = serializers.CharField(allow_null=True)
    receipt_valid = serializers.BooleanField()
    decision_then = serializers.CharField(allow_null=True)
    status_now = serializers.CharField(allow_null=True)
    log_proof_valid = serializers.BooleanField(allow_null=True, help_text="null: no log proof, or not checked.")
    training_mining_consistent = serializers.BooleanField(
        allow_null=True, help_text="null: the file states no cawg.training-mining assertion."
    )
    reason = serializers.CharField(allow_null=True)


class ProvenanceCheckOut(serializers.Serializer[Any]):
    sha256 = serializers.CharField()
    c2pa = ProvenanceC2paOut()
    consents = ProvenanceConsentClaimOut(many=True)
    verdict = serializers.ChoiceField(
        choices=["consented", "consent_revoked", "consent_invalid", "no_consent_claim", "no_manifest", "unreadable"]
    )


class ProvenanceCheckQueuedOut(serializers.Serializer[Any]):
    id = serializers.CharField()
    status = serializers.CharField(help_text="pending, done or failed")
    sha256 = serializers.CharField()
    status_url = serializers.CharField()


class ProvenanceCheckStatusOut(serializers.Serializer[Any]):
    id = serializers.CharField()
    status = serializers.CharField(help_text="pending, done or failed")
    sha256 = serializers.CharField()
    result = ProvenanceCheckOut(allow_null=True)


class ReleaseC2paOut(serializers.Serializer[Any]):
    release = serializers.CharField()
    status = serializers.CharField()
    appearances = serializers.ListField(child=serializers.DictField())
