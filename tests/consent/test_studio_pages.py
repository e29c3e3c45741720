"""The studio pages with Django's test client: checks, releases (table and CSV), webhooks, API keys."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from consent import services
from consent.models import AccessLogEntry, Release
from registry.accounts import services as accounts
from registry.accounts.models import ApiKey, Membership
from registry.accounts.presence import Presence
from registry.events.models import Delivery, OutboxEvent, WebhookEndpoint

pytestmark = pytest.mark.django_db
# The stylesheet link, by its source name or the hashed name the production storage gives it.
STUDIO_CSS = re.compile(r'<link rel="stylesheet" href="/static/consent/studio(\.[0-9a-f]{12})?\.css">')


def _witness() -> Presence:
    return Presence(authenticated_at=timezone.now(), second_factor=False, method="password")


def _service_terms(body):
    return {**body, **{k: date.fromisoformat(body[k]) for k in ("valid_from", "valid_until") if body.get(k)}}


@pytest.fixture
def signed(make_subject, terms):
    """A person with a signed consent: anyone may generate their face for film and TV in Indonesia."""

    def make(status="living", **overrides):
        subject, person = make_subject(status)
        draft = services.consent_create(
            subject=subject, actor=person, terms=_service_terms(terms(subject, **overrides))
        )
        consent = services.consent_sign(consent=draft, actor=person, method="witnessed", witness=_witness())
        return subject, person, consent

    return make


@pytest.fixture
def studio(user, org):
    client = Client()
    client.force_login(user)
    return client, org


@pytest.fixture
def member_client(org, make_user):
    """A plain member (not admin) of the studio."""
    person = make_user()
    accounts.membership_add(organization=org, actor_role="owner", user=person, role=Membership.Role.MEMBER)
    client = Client()
    client.force_login(person)
    return client


def _pages(org, release=None, endpoint=None, key=None):
    base = f"/studios/{org.slug}"
    pages = [
        "/studios/",
        f"{base}/check/",
        f"{base}/releases/",
        f"{base}/releases/new/",
        f"{base}/webhooks/",
        f"{base}/api-keys/",
    ]
    if release:
        pages.append(f"{base}/releases/{release.public_id}/")
    if endpoint:
        pages.append(f"{base}/webhooks/{endpoint.public_id}/")
    if key:
        pages += [f"{base}/webhooks/{endpoint.public_id}/delete/", f"{base}/api-keys/{key.public_id}/revoke/"]
    return pages


def _release(org, user, signed_subject):
    from consent.services.releases import release_create

    return release_create(
        organization=org,
        user=user,
        title="Sang Penari",
        release_date=timezone.now().date() + timedelta(days=10),
        territories=["ID"],
        appearances=[{"subject": signed_subject.public_id, "media": ["face"], "purpose": "film_tv"}],
        tools=[],
    )


@pytest.fixture
def everything(studio, user, signed):
    _client, org = studio
    subject, _person, _consent = signed()
    release = _release(org, user, subject)
    endpoint = WebhookEndpoint.objects.create(
        organization=org, url="https://hooks.example.org/restu", events=["consent.revoked"], secret="whsec_x"
    )
    key = accounts.api_key_create(
        organization=org, creator=user, actor_role="owner", name="farm", presence=_witness()
    ).api_key
    return release, endpoint, key


def test_every_page_renders_for_a_member(studio, everything, member_client):
    _client, org = studio
    release, endpoint, key = everything
    for url in _pages(org, release, endpoint):
        response = member_client.get(url)
        if "/webhooks/" in url:  # admins and owners only, as in the API (a URL can carry a token)
            assert response.status_code == 403, url
            continue
        assert response.status_code == 200, url
        assert STUDIO_CSS.search(response.content.decode()), url
    # Confirmation pages for changes are for admins and owners only.
    assert member_client.get(f"/studios/{org.slug}/api-keys/{key.public_id}/revoke/").status_code == 403
    assert member_client.get(f"/studios/{org.slug}/webhooks/{endpoint.public_id}/delete/").status_code == 403


def test_every_page_renders_for_the_owner(studio, everything):
    client, org = studio
    release, endpoint, key = everything
    for url in _pages(org, release, endpoint, key):
        assert client.get(url).status_code == 200, url


def test_another_organizations_pages_are_not_found(studio, everything, make_user, make_org):
    _client, org = studio
    release, endpoint, key = everything
    stranger = Client()
    stranger.force_login(make_user())
    for url in _pages(org, release, endpoint, key)[1:]:
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(f"/studios/{org.slug}/releases/{release.public_id}/recheck/").status_code == 404
    # A release of another organization is not found under yours either.
    client, _org = studio
    other = make_org(make_user())
    assert client.get(f"/studios/{other.slug}/check/").status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client, org):
    for url in _pages(org):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_the_dashboard_lists_organizations_and_creates_a_studio(make_user):
    person = make_user()
    client = Client()
    client.force_login(person)
    page = client.get("/studios/")
    assert b"Create your studio" in page.content

    response = client.post("/studios/", {"name": "Layar Emas Pictures"})
    assert response.status_code == 302
    assert response["Location"] == "/studios/layar-emas-pictures/check/"
    membership = Membership.objects.get(user=person)
    assert membership.role == "owner"
    assert membership.organization.kind == "studio"
    assert b"Layar Emas Pictures" in client.get("/studios/").content

    taken = client.post("/studios/", {"name": "Other", "slug": "layar-emas-pictures"})
    assert taken.status_code == 200
    assert b"An organization with this slug exists." in taken.content


def _check(client, org, subject_id, **over):
    data = {
        "subject": subject_id,
        "medium": "face",
        "activity": "generate",
        "purpose": "film_tv",
        "territory": "ID",
        "date": (timezone.now().date() + timedelta(days=5)).isoformat(),
        "production": "",
        "min_assurance": "",
    }
    data.update(over)
    return client.post(f"/studios/{org.slug}/check/", data)


def test_checking_a_use_says_permitted_and_lands_in_the_access_log(studio, user, signed):
    client, org = studio
    subject, _person, consent = signed()

    response = _check(client, org, subject.public_id)

    assert response.status_code == 200
    text = response.content.decode()
    assert "Permitted" in text
    assert consent.public_id in text
    assert "Credit the person." in text  # the consent's condition, in plain words
    assert "python -m restu_verify receipt" in text
    assert "/.well-known/jwks.json" in text
    entry = AccessLogEntry.objects.get(subject=subject)
    assert entry.caller_org == org
    assert entry.caller_user == user
    assert entry.decision == "permitted"
    assert entry.receipt_id


def test_a_use_outside_the_consent_is_denied_with_its_reason_explained(studio, signed):
    client, org = studio
    subject, _person, _consent = signed()

    response = _check(client, org, subject.public_id, territory="US")

    text = response.content.decode()
    assert "Denied" in text
    assert "The consent does not cover this country." in text


def test_an_unknown_person_is_unknown_and_bad_input_is_a_form_error(studio):
    client, org = studio
    unknown = _check(client, org, "sub_doesnotexist")
    assert "Unknown" in unknown.content.decode()
    assert "Restu has no person with this id" in unknown.content.decode()

    # The unknown id's check is noted with no subject: no person's log shows it.
    assert list(AccessLogEntry.objects.values_list("subject_id", "decision")) == [(None, "unknown")]

    bad = _check(client, org, "sub_x", territory="ZZ", medium="smell")
    assert bad.status_code == 200
    assert b"Select a valid choice" in bad.content
    assert AccessLogEntry.objects.count() == 1  # bad input is no check


def test_the_check_page_shares_the_organizations_verification_budget(studio, signed, key_client, settings, monkeypatch):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verify": "3/min"},
    }
    from rest_framework.throttling import SimpleRateThrottle

    # 15 s into a minute: the budget is one per minute window, so the page can say exactly when.
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: 60 * 16_667 + 15.0)
    client, org = studio
    subject, _person, _consent = signed()
    api, _ = key_client()  # an API key of the same studio
    when = (timezone.now().date() + timedelta(days=5)).isoformat()
    query = {"subject": subject.public_id, "medium": "face", "activity": "generate", "purpose": "film_tv"}
    query.update(territory="ID", date=when)
    assert [api.post("/api/v1/verifications", query, format="json").status_code for _ in range(2)] == [200, 200]
    assert _check(client, org, subject.public_id).status_code == 200

    refused = _check(client, org, subject.public_id)

    assert refused.status_code == 429
    assert refused["Retry-After"] == "45"
    assert "too many checks" in refused.content.decode()
    assert "try again in 45 seconds" in refused.content.decode()
    assert "Permitted" not in refused.content.decode()
    assert AccessLogEntry.objects.filter(subject=subject).count() == 3  # the refused check was not made
    client.cookies["django_language"] = "id"
    in_indonesian = _check(client, org, subject.public_id).content.decode()
    assert "Organisasi Anda terlalu banyak melakukan pemeriksaan" in in_indonesian


def test_the_check_page_speaks_indonesian(studio, signed):
    client, org = studio
    subject, _person, _consent = signed()
    client.cookies["django_language"] = "id"

    response = _check(client, org, subject.public_id, territory="US")

    text = response.content.decode()
    assert "Ditolak" in text
    assert "Periksa penggunaan" in text


def _release_form(**over):
    data = {
        "title": "Sang Penari",
        "release_date": (timezone.now().date() + timedelta(days=30)).isoformat(),
        "territories": ["ID"],
    }
    data.update(over)
    return data


def test_the_release_form_creates_a_release_and_shows_its_report(studio, user, signed):
    client, org = studio
    subject, _person, consent = signed()

    response = client.post(
        f"/studios/{org.slug}/releases/new/",
        _release_form(subject_0=subject.public_id, media_0=["face"], purpose_0="film_tv"),
    )

    release = Release.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/studios/{org.slug}/releases/{release.public_id}/"
    assert release.created_by == user
    assert release.organization == org
    report = client.get(response["Location"]).content.decode()
    assert "Needs review" in report  # the fixture's consent names no production
    assert "The consent covers any production rather than naming yours." in report
    # A self-service consent open to any production is no employment term: no "unadvised" flag.
    assert "The person signed without advice from a lawyer or a union." not in report
    assert consent.public_id in report
    assert STUDIO_CSS.search(report)
    assert AccessLogEntry.objects.filter(subject=subject, kind="release").count() == 1


def test_a_release_with_an_unknown_person_is_blocked(studio, signed):
    client, org = studio
    response = client.post(
        f"/studios/{org.slug}/releases/new/",
        _release_form(subject_0="sub_nobody", media_0=["voice"], purpose_0="film_tv"),
        follow=True,
    )
    text = response.content.decode()
    assert "Blocked" in text
    assert "Restu has no person with this id" in text


def test_check_again_rechecks_the_release(studio, user, signed):
    client, org = studio
    subject, person, consent = signed()
    release = _release(org, user, subject)
    services.consent_revoke(consent=consent, actor=person, reason="", witness=_witness())

    response = client.post(f"/studios/{org.slug}/releases/{release.public_id}/recheck/", follow=True)

    assert response.status_code == 200
    release.refresh_from_db()
    assert release.status == "blocked"
    assert "Blocked" in response.content.decode()


def _csv(text: str | bytes, name: str = "cast.csv") -> SimpleUploadedFile:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_a_csv_upload_creates_a_release(studio, signed, make_subject):
    client, org = studio
    subject, _person, _consent = signed()
    other, _ = make_subject()
    upload = _csv(f"subject,media,purpose\n{subject.public_id},face,film_tv\n{other.public_id},face;voice,film_tv\n")

    response = client.post(f"/studios/{org.slug}/releases/new/", _release_form(appearances_csv=upload))

    release = Release.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/releases/{release.public_id}/")
    assert [(a["subject"], a["media"]) for a in release.appearances] == [
        (subject.public_id, ["face"]),
        (other.public_id, ["face", "voice"]),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,kind\nsari,face\n", "The first line must name the columns subject, media and purpose."),
        ('subject,media,purpose\n"sub_x,face,film_tv\n', "is not a readable CSV file"),
        ("subject,media,purpose\nsub_x,face,film_tv,extra\n", "Line 2 has more cells than there are columns."),
        ("subject,media,purpose\nsub_x,smell,film_tv\n", "Line 2: "),
        ("subject,media,purpose\n", "The file has no appearances."),
        (b"subject,media,purpose\nsub_\xff\xfe,face,film_tv\n", "The file is not UTF-8 text."),
        ("subject,media,purpose\n" + "sub_x,face,film_tv\n" * 501, "The file has more than 500 rows."),
    ],
    ids=["no-header", "malformed", "extra-cells", "bad-medium", "empty", "not-utf8", "too-many-rows"],
)
def test_a_bad_csv_is_a_form_error_and_creates_nothing(studio, content, message):
    client, org = studio

    response = client.post(f"/studios/{org.slug}/releases/new/", _release_form(appearances_csv=_csv(content)))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Release.objects.count() == 0
    assert AccessLogEntry.objects.count() == 0


def test_a_csv_over_one_mebibyte_is_refused(studio):
    client, org = studio
    big = "subject,media,purpose\n" + ("sub_x,face,film_tv," + "x" * 1000 + "\n") * 1100

    response = client.post(f"/studios/{org.slug}/releases/new/", _release_form(appearances_csv=_csv(big)))

    assert "The file is larger than 1 MiB." in response.content.decode()
    assert Release.objects.count() == 0


def test_the_release_form_explains_what_is_missing(studio):
    client, org = studio
    empty = client.post(f"/studios/{org.slug}/releases/new/", _release_form())
    assert "Add at least one appearance" in empty.content.decode()

    half = client.post(f"/studios/{org.slug}/releases/new/", _release_form(subject_0="sub_x", purpose_0="film_tv"))
    assert "Row 1: tick at least one part of the likeness." in half.content.decode()

    bad_tool = client.post(
        f"/studios/{org.slug}/releases/new/",
        _release_form(
            subject_0="sub_x",
            media_0=["face"],
            purpose_0="film_tv",
            tool_project_0="org_x",
            tool_version_0="1.0",
            tool_digest_0="md5:abc",
        ),
    )
    assert "Must be sha256: followed by 64 lower-case hex digits." in bad_tool.content.decode()

    both = client.post(
        f"/studios/{org.slug}/releases/new/",
        _release_form(
            subject_0="sub_x",
            media_0=["face"],
            purpose_0="film_tv",
            appearances_csv=_csv("subject,media,purpose\nsub_y,face,film_tv\n"),
        ),
    )
    assert "Use either the table or a CSV file, not both." in both.content.decode()
    assert Release.objects.count() == 0


def test_the_report_page_is_made_for_print(studio, user, signed):
    client, org = studio
    subject, _person, _consent = signed()
    release = _release(org, user, subject)

    page = client.get(f"/studios/{org.slug}/releases/{release.public_id}/").content.decode()

    assert STUDIO_CSS.search(page)
    assert "no-print" in page
    css = (Path(__file__).parents[2] / "consent/static/consent/studio.css").read_text()
    assert "@media print" in css
    assert release.receipt in page


def test_a_new_webhooks_secret_is_shown_once(studio):
    client, org = studio

    created = client.post(
        f"/studios/{org.slug}/webhooks/",
        {"url": "https://hooks.example.org/restu", "events": ["consent.revoked", "release.status_changed"]},
    )

    endpoint = WebhookEndpoint.objects.get()
    assert created.status_code == 200
    assert endpoint.secret in created.content.decode()
    assert "We can't show it again." in created.content.decode()
    again = client.get(f"/studios/{org.slug}/webhooks/").content.decode()
    assert endpoint.secret not in again
    assert "https://hooks.example.org/restu" in again


def test_webhooks_can_be_turned_off_rotated_and_deleted(studio):
    client, org = studio
    client.post(f"/studios/{org.slug}/webhooks/", {"url": "https://hooks.example.org/r", "events": ["consent.revoked"]})
    endpoint = WebhookEndpoint.objects.get()
    base = f"/studios/{org.slug}/webhooks/{endpoint.public_id}"

    client.post(f"{base}/toggle/")
    endpoint.refresh_from_db()
    assert endpoint.is_active is False

    old = endpoint.secret
    rotated = client.post(f"{base}/rotate/")
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.previous_secret == old
    assert endpoint.secret in rotated.content.decode()

    assert client.get(f"{base}/delete/").status_code == 200
    assert WebhookEndpoint.objects.count() == 1
    client.post(f"{base}/delete/")
    assert WebhookEndpoint.objects.count() == 0


def test_a_bad_webhook_address_is_a_form_error(studio):
    client, org = studio
    response = client.post(
        f"/studios/{org.slug}/webhooks/", {"url": "http://127.0.0.1/x", "events": ["consent.revoked"]}
    )
    assert response.status_code == 200
    assert b"field__errors" in response.content
    assert WebhookEndpoint.objects.count() == 0


def test_the_delivery_log_lists_deliveries_and_sends_again(studio):
    client, org = studio
    endpoint = WebhookEndpoint.objects.create(
        organization=org, url="https://hooks.example.org/r", events=["webhook.test"], secret="whsec_x"
    )
    event = OutboxEvent.objects.create(type="webhook.test", payload={})
    delivery = Delivery.objects.create(event=event, endpoint=endpoint, state=Delivery.State.FAILED)
    base = f"/studios/{org.slug}/webhooks/{endpoint.public_id}"

    log = client.get(f"{base}/").content.decode()
    assert "webhook.test" in log
    assert "Gave up" in log

    response = client.post(f"{base}/deliveries/{delivery.public_id}/redeliver/")
    assert response.status_code == 302
    assert client.post(f"{base}/deliveries/dlv_nope/redeliver/").status_code == 404


def test_an_api_key_is_shown_once_and_can_be_revoked(studio, user):
    client, org = studio

    # A new key needs a fresh proof of presence: first the password again, then the key.
    asked = client.post(f"/studios/{org.slug}/api-keys/", {"name": "render farm"})
    assert asked.status_code == 302
    assert asked["Location"].startswith("/accounts/reauthenticate/?next=")
    assert ApiKey.objects.count() == 0
    back = client.post(asked["Location"], {"password": "correct horse battery"})
    assert back["Location"] == f"/studios/{org.slug}/api-keys/"
    created = client.post(f"/studios/{org.slug}/api-keys/", {"name": "render farm"})

    key = ApiKey.objects.get()
    text = created.content.decode()
    assert f"restu_{key.prefix}_" in text
    assert "We can't show it again." in text
    assert f"restu_{key.prefix}_" not in client.get(f"/studios/{org.slug}/api-keys/").content.decode().replace(
        f"restu_{key.prefix}_…", ""
    )

    client.post(f"/studios/{org.slug}/api-keys/{key.public_id}/revoke/")
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_a_member_cannot_create_keys_or_webhooks(studio, member_client):
    _client, org = studio

    keys = member_client.post(f"/studios/{org.slug}/api-keys/", {"name": "mine"})
    hooks = member_client.post(
        f"/studios/{org.slug}/webhooks/", {"url": "https://hooks.example.org/r", "events": ["consent.revoked"]}
    )

    assert keys.status_code == 403
    assert hooks.status_code == 403
    assert ApiKey.objects.count() == 0
    assert WebhookEndpoint.objects.count() == 0
    page = member_client.get(f"/studios/{org.slug}/api-keys/").content.decode()
    assert "only admins and owners" in page
    assert "Create key" not in page


def test_forms_need_the_csrf_token(studio):
    _client, org = studio
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(Membership.objects.get(organization=org).user)
    assert strict.post(f"/studios/{org.slug}/api-keys/", {"name": "x"}).status_code == 403
    assert ApiKey.objects.count() == 0


def test_the_report_names_people_shows_every_condition_and_downloads_signed(studio, user, signed):
    client, org = studio
    subject, _person, _consent = signed(conditions={"attribution_required": True, "approval_required": True})
    profile = subject.profile
    profile.is_public = True
    profile.display_name = "Sari Pemeran"
    profile.save()
    release = _release(org, user, subject)
    address = f"/studios/{org.slug}/releases/{release.public_id}/"

    page = client.get(address).content.decode()
    assert "Sari Pemeran" in page
    assert "Get the person&#x27;s approval before each use is published." in page
    assert "Credit the person." in page
    assert "?download=jws" in page

    jws = client.get(address, {"download": "jws"})
    assert jws.status_code == 200
    assert jws["Content-Disposition"] == f'attachment; filename="{release.public_id}.jws"'
    assert jws.content.decode() == release.receipt
    assert release.receipt.count(".") == 2

    html = client.get(address, {"download": "html"})
    assert html["Content-Disposition"] == f'attachment; filename="{release.public_id}.html"'
    text = html.content.decode()
    assert "Sari Pemeran" in text
    assert "Get the person&#x27;s approval before each use is published." in text
    assert release.receipt in text
    assert "<script" not in text
    assert "<style" not in text
    assert " style=" not in text


def test_a_private_profile_name_stays_out_of_the_report(studio, user, signed):
    client, org = studio
    subject, _person, _consent = signed()
    release = _release(org, user, subject)
    page = client.get(f"/studios/{org.slug}/releases/{release.public_id}/").content.decode()
    assert subject.profile.display_name not in page
    assert subject.public_id in page


def test_a_release_over_ten_thousand_checks_is_refused_on_the_page_and_nothing_is_stored(studio, make_subject):
    import pycountry

    client, org = studio
    people = [make_subject()[0] for _ in range(20)]
    every_country = sorted(country.alpha_2 for country in pycountry.countries)[:200]
    # 20 appearances x every medium (3) x 200 countries = 12,000 checks.
    rows = "".join(f"{person.public_id},face;voice;body,film_tv\n" for person in people)
    response = client.post(
        f"/studios/{org.slug}/releases/new/",
        _release_form(territories=every_country, appearances_csv=_csv("subject,media,purpose\n" + rows)),
    )
    assert response.status_code == 200
    assert "At most 10,000 checks" in response.content.decode()
    assert not Release.objects.exists()


def test_a_release_is_refused_on_the_page_while_the_verification_budget_is_spent(studio, signed, settings):
    client, org = studio
    subject, _person, _consent = signed()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verify": "2/min"},
    }
    form = _release_form(subject_0=subject.public_id, media_0=["face", "voice"], purpose_0="film_tv")
    assert client.post(f"/studios/{org.slug}/releases/new/", form).status_code == 302  # 2 checks: the budget
    refused = client.post(f"/studios/{org.slug}/releases/new/", form)
    assert refused.status_code == 200
    assert "Too many checks this minute" in refused.content.decode()
    assert Release.objects.count() == 1


def test_a_plain_member_sees_no_webhook_urls_on_the_pages_as_in_the_api(org, member_client):
    # The API lists webhooks to admins and owners only; the pages showed every member the URLs.
    from registry.events import services as events

    endpoint = events.webhook_create(
        organization=org,
        actor_role="owner",
        url="https://hooks.example.org/restu?token=s3cret",
        events=["consent.revoked"],
    )
    for path in (f"/studios/{org.slug}/webhooks/", f"/studios/{org.slug}/webhooks/{endpoint.public_id}/"):
        response = member_client.get(path)
        assert response.status_code == 403, path
        assert b"s3cret" not in response.content
