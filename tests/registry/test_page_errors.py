"""Pages refuse an oversized body and a form without its CSRF token in plain words, writing nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from consent.models import Release

pytestmark = pytest.mark.django_db


def test_an_upload_over_the_page_limit_is_refused_before_it_is_read(user, org, settings):
    client = Client()
    client.force_login(user)
    big = SimpleUploadedFile("cast.csv", b"subject,media,purpose\n" + b"x" * (settings.PAGE_MAX_BODY_BYTES + 1))

    response = client.post(f"/studios/{org.slug}/releases/new/", {"title": "Big", "appearances_csv": big})

    assert response.status_code == 413
    text = response.content.decode()
    assert "What you sent is too large" in text
    assert "at most 2 MiB" in text
    assert Release.objects.count() == 0


def test_the_api_keeps_its_own_one_mebibyte_limit_as_a_problem_document(api, settings):
    response = api.post(
        "/api/v1/organizations", data=b"{" + b" " * settings.API_MAX_BODY_BYTES + b"}", content_type="application/json"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"


def test_a_form_without_its_csrf_token_gets_a_page_that_says_what_to_do(user, org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(f"/studios/{org.slug}/releases/new/", {"title": "No token"})

    assert response.status_code == 403
    text = response.content.decode()
    assert "The form has expired" in text
    assert "reload the page" in text
    assert 'class="site-header' in text  # our layout, not Django's bare page
    assert Release.objects.count() == 0


def test_the_csrf_page_speaks_indonesian(user, org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["django_language"] = "id"

    response = client.post(f"/studios/{org.slug}/releases/new/", {"title": "No token"})

    assert "Formulir sudah kedaluwarsa" in response.content.decode()
