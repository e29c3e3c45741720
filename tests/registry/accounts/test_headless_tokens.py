"""Apps sign in through allauth's headless API and call ours with X-Session-Token."""

import pytest
from rest_framework.test import APIClient


@pytest.mark.django_db
def test_app_signup_gives_a_session_token_that_our_api_accepts():
    app = APIClient()
    response = app.post(
        "/_allauth/app/v1/auth/signup", {"email": "app@example.org", "password": "a long passphrase 42"}, format="json"
    )
    assert response.status_code == 200, response.content[:300]
    token = response.json()["meta"]["session_token"]
    api = APIClient()
    created = api.post(
        "/api/v1/organizations",
        {"name": "From the app", "slug": "from-app", "kind": "studio"},
        HTTP_X_SESSION_TOKEN=token,
    )
    assert created.status_code == 201
    assert api.get("/api/v1/organizations", HTTP_X_SESSION_TOKEN=token).json()["results"][0]["slug"] == "from-app"
    assert api.get("/api/v1/organizations", HTTP_X_SESSION_TOKEN="not-a-token").status_code in (401, 403)


@pytest.mark.django_db
def test_app_login_is_rate_limited_after_repeated_failures(make_user):
    make_user("victim@example.org", password="the right passphrase")
    app = APIClient()

    def login(password):
        return app.post(
            "/_allauth/app/v1/auth/login", {"email": "victim@example.org", "password": password}, format="json"
        )

    assert all(login("wrong guess").status_code == 400 for _ in range(5))
    # allauth refuses further attempts for this account, even with the right password, for a while.
    blocked = login("the right passphrase")
    assert blocked.status_code == 400
    assert "too_many_login_attempts" in blocked.content.decode()


@pytest.mark.django_db
def test_an_app_that_just_signed_up_may_create_an_api_key_with_its_session_token():
    """Sign-up is an authentication: the person is at the keyboard, so a key can be made at once."""
    app = APIClient()
    response = app.post(
        "/_allauth/app/v1/auth/signup", {"email": "new@example.org", "password": "a long passphrase 42"}, format="json"
    )
    token = response.json()["meta"]["session_token"]
    api = APIClient()
    org = api.post(
        "/api/v1/organizations", {"name": "App", "slug": "app-org", "kind": "studio"}, HTTP_X_SESSION_TOKEN=token
    ).json()
    created = api.post("/api/v1/api-keys", {"name": "ci", "organization": org["id"]}, HTTP_X_SESSION_TOKEN=token)
    assert created.status_code == 201, created.content[:300]
