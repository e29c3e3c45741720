"""Web pages: the layout, both languages, allauth's pages in our layout, error pages and the CSP."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from registry.accounts.models import User

PASSWORD = "correct horse battery"

# Every page in the site layout carries these, whichever template rendered the body.
LAYOUT_MARKERS = ('class="site-header"', 'href="#main"', "/static/css/restu.", 'class="site-footer"')

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def assert_in_layout(html: str) -> None:
    for marker in LAYOUT_MARKERS:
        assert marker in html, f"missing {marker!r}"


def assert_no_inline_code(html: str) -> None:
    """No inline script or style: the CSP (script-src/style-src 'self') would block them."""
    for attrs in SCRIPT_TAG.findall(html):
        # A JSON data block (allauth passes its settings this way) is data, never executed.
        assert "src=" in attrs or 'type="application/json"' in attrs, f"inline <script{attrs}>"
    assert " style=" not in html
    assert "<style" not in html.lower()


@pytest.fixture
def person(db: None) -> User:
    return User.objects.create_user("performer@example.org", PASSWORD)


@pytest.fixture
def signed_in(client: Client, person: User) -> Client:
    response = client.post(reverse("account_login"), {"login": person.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def reauthenticated(signed_in: Client) -> Client:
    # Two-factor pages need a fresh password confirmation on record, as a person would give it.
    response = signed_in.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302
    return signed_in


@pytest.mark.django_db
def test_home_page_explains_restu_in_english(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Who may use your face and voice? You decide." in html
    for section in ("maintainers", "performers", "studios"):
        assert f'id="{section}"' in html
    # The navigation leads each audience to its own pages.
    assert f'href="{reverse("guidelines:catalogue")}"' in html
    assert 'href="/#performers"' in html  # signed out: the explanation first
    assert f'href="{reverse("consent:studio-dashboard")}"' in html
    assert reverse("account_signup") in html
    assert_in_layout(html)


@pytest.mark.django_db
def test_language_switch_shows_the_home_page_in_indonesian(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    assert response.status_code == 302

    html = client.get("/").content.decode()

    assert '<html lang="id">' in html
    assert "Siapa yang boleh memakai wajah dan suara Anda? Anda yang memutuskan." in html
    assert "Untuk pemeran" in html
    assert "Who may use your face and voice?" not in html


@pytest.mark.django_db
def test_header_offers_sign_in_and_sign_up_to_visitors(client: Client) -> None:
    html = client.get("/").content.decode()

    assert f'href="{reverse("account_login")}"' in html
    assert f'href="{reverse("account_signup")}"' in html
    assert 'href="/api/v1/docs/"' in html
    assert f'action="{reverse("set_language")}"' in html


@pytest.mark.django_db
def test_header_signs_out_with_a_post_form(signed_in: Client) -> None:
    html = signed_in.get("/").content.decode()

    assert re.search(rf'<form[^>]*method="post"[^>]*action="{reverse("account_logout")}"', html)
    assert f'href="{reverse("account_login")}"' not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name", ["account_login", "account_signup", "account_reset_password", "account_reset_password_done"]
)
def test_entrance_pages_render_in_our_layout(client: Client, url_name: str) -> None:
    response = client.get(reverse(url_name))

    assert response.status_code == 200
    html = response.content.decode()
    assert_in_layout(html)
    assert 'class="card entrance"' in html
    assert_no_inline_code(html)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name",
    [
        "account_logout",
        "account_email",
        "account_change_password",
        "account_reauthenticate",
        "mfa_index",
        "mfa_activate_totp",
    ],
)
def test_account_pages_render_in_our_layout(reauthenticated: Client, url_name: str) -> None:
    response = reauthenticated.get(reverse(url_name))

    assert response.status_code == 200
    html = response.content.decode()
    assert_in_layout(html)
    assert_no_inline_code(html)


@pytest.mark.django_db
def test_recovery_codes_page_renders_in_our_layout(reauthenticated: Client, person: User) -> None:
    TOTP.activate(person, generate_totp_secret())
    RecoveryCodes.activate(person)

    response = reauthenticated.get(reverse("mfa_view_recovery_codes"))

    assert response.status_code == 200
    html = response.content.decode()
    assert_in_layout(html)
    assert 'id="recovery_codes"' in html
    assert_no_inline_code(html)


@pytest.mark.django_db
def test_signup_form_labels_every_field(client: Client) -> None:
    html = client.get(reverse("account_signup")).content.decode()

    for field_id in ("id_email", "id_password1", "id_password2"):
        assert f'<label class="field__label" for="{field_id}">' in html


@pytest.mark.django_db
def test_unknown_page_gets_an_html_404_in_our_layout(client: Client) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert_in_layout(html)
    assert "We could not find that page" in html


@pytest.mark.django_db
def test_unknown_api_path_gets_a_problem_document(client: Client) -> None:
    response = client.get("/api/v1/nope")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("template", "text"), [("500.html", "Something went wrong on our side"), ("503.html", "briefly unavailable")]
)
def test_server_error_pages_render_without_a_request(template: str, text: str) -> None:
    html = render_to_string(template)

    assert text in html
    assert "/static/css/restu." in html
    assert "Go to the home page" in html
    assert_no_inline_code(html)


@pytest.mark.django_db
@pytest.mark.parametrize(("template", "text"), [("400.html", "could not be understood"), ("403.html", "not allowed")])
def test_client_error_pages_render_in_our_layout(rf, template: str, text: str) -> None:
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/somewhere/")
    request.user = AnonymousUser()
    html = render_to_string(template, request=request)

    assert text in html
    assert_in_layout(html)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/", "/no-such-page/"])
def test_pages_carry_a_strict_content_security_policy(client: Client, path: str) -> None:
    response = client.get(path)

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert_no_inline_code(response.content.decode())
