"""The sign-in pages (django-allauth's templates) read like the rest of Restu in Bahasa Indonesia.

allauth's own Indonesian catalogue writes "anda", "Silahkan", "reset" and Title Case; the project
catalogue (locale/, first in LOCALE_PATHS) translates those strings again (docs/glossary-id.md).
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from registry.accounts.models import User

PASSWORD = "correct horse battery"

# Words a native editor would strike on these pages, with what the glossary uses instead.
STRUCK = {
    r"\banda\b": "Anda",
    r"(?<![Kk]ata )\b[Ss]andi\b": "kata sandi",
    r"\bSilahkan\b": "Silakan",
    r"\b(?:reset|mereset|direset)\b": "setel ulang",
    r"\be-mail\b": "email",
    r"\bkadaluarsa\b": "kedaluwarsa",
    r"\([Ll]agi\)": "(ulangi)",
    r"\bIngat Saya\b": "Ingat saya",
    r"\bKonfirmasi Akses\b": "Pastikan ini Anda",
}


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _struck(text: str) -> list[str]:
    return [match.group(0) for pattern in STRUCK for match in re.finditer(pattern, text)]


def _indonesian(client: Client) -> Client:
    client.cookies["django_language"] = "id"
    return client


@pytest.fixture
def person(db: None) -> User:
    return User.objects.create_user("pemeran@example.org", PASSWORD)


@pytest.fixture
def signed_in(client: Client, person: User) -> Client:
    response = client.post(reverse("account_login"), {"login": person.email, "password": PASSWORD})
    assert response.status_code == 302
    return _indonesian(client)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("account_login", "Ingat saya"),
        ("account_signup", "Kata sandi (ulangi)"),
        ("account_reset_password", "Lupa kata sandi Anda?"),
        ("account_reset_password_done", "Kami telah mengirimkan email kepada Anda."),
    ],
)
def test_the_sign_in_pages_read_as_restu_does(client: Client, name: str, expected: str) -> None:
    text = _visible_text(_indonesian(client).get(reverse(name)).content.decode())

    assert expected in text
    assert _struck(text) == []


def test_a_broken_reset_link_says_so_in_plain_indonesian(client: Client, db: None) -> None:
    page = _indonesian(client).get("/accounts/password/reset/key/x-set-password/", follow=True)
    text = _visible_text(page.content.decode())

    assert "Token tidak valid" in text
    assert "setel ulang kata sandi" in text
    assert _struck(text) == []


def test_confirming_it_is_you_uses_the_glossary_words(signed_in: Client) -> None:
    text = _visible_text(signed_in.get(reverse("account_reauthenticate")).content.decode())

    assert "Pastikan ini Anda" in text
    assert _struck(text) == []


@pytest.mark.parametrize("name", ["account_email", "account_change_password", "mfa_index"])
def test_the_account_pages_use_the_glossary_words(signed_in: Client, name: str) -> None:
    text = _visible_text(signed_in.get(reverse(name)).content.decode())

    assert _struck(text) == []
