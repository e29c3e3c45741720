"""Every error under /api/ is an RFC 9457 problem document, and bad input writes nothing."""

import json

import pytest
from django.test import Client
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from registry.accounts.models import Organization

PROBLEM = "application/problem+json"


def assert_problem(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= set(body)
    assert "Traceback" not in json.dumps(body)
    return body


@pytest.mark.django_db
def test_malformed_json_is_400(api):
    response = api.post("/api/v1/organizations", data='{"name": ', content_type="application/json")
    assert_problem(response, 400)
    assert Organization.objects.count() == 0


@pytest.mark.django_db
def test_wrong_types_name_each_field(api):
    response = api.post("/api/v1/organizations", {"name": ["a"], "slug": 5.5, "kind": None}, format="json")
    body = assert_problem(response, 400)
    assert {"name", "slug", "kind"} <= set(body["errors"])
    assert all(isinstance(messages, list) and messages for messages in body["errors"].values())


@pytest.mark.django_db
def test_unknown_fields_on_create_are_refused(api):
    response = api.post("/api/v1/organizations", {"name": "S", "slug": "s", "kind": "studio", "owner": "me"})
    body = assert_problem(response, 400)
    assert body["errors"] == {"owner": ["This field is not accepted here."]}
    assert Organization.objects.count() == 0


@pytest.mark.django_db
def test_body_over_one_mebibyte_is_413(api):
    payload = json.dumps({"name": "x" * (1024 * 1024), "slug": "big", "kind": "studio"})
    response = api.post("/api/v1/organizations", data=payload, content_type="application/json")
    assert_problem(response, 413)
    assert Organization.objects.count() == 0


@pytest.mark.django_db
def test_wrong_content_type_is_415(api):
    response = api.post(
        "/api/v1/organizations", data="name=S&slug=s&kind=studio", content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response, 415)
    assert Organization.objects.count() == 0


@pytest.mark.django_db
def test_unknown_api_path_is_a_404_problem(api):
    assert_problem(api.get("/api/v1/no-such-thing"), 404)


@pytest.mark.django_db
def test_wrong_method_is_405(api):
    assert_problem(api.put("/api/v1/organizations", {}), 405)


@pytest.mark.django_db
def test_unauthenticated_is_401_with_challenge(anon):
    response = anon.get("/api/v1/organizations")
    assert_problem(response, 401)
    assert "WWW-Authenticate" in response


@pytest.mark.django_db
def test_unexpected_exception_is_a_500_problem_without_traceback(caplog, user):
    class Boom(APIView):
        permission_classes = ()

        def get(self, request):
            raise RuntimeError("secret internals")

    request = APIRequestFactory().get("/api/v1/boom")
    response = Boom.as_view()(request)
    response.render()
    assert response.status_code == 500
    assert response["Content-Type"] == PROBLEM
    assert b"secret internals" not in response.content
    assert "secret internals" in caplog.text  # logged for the operators


@pytest.mark.django_db
def test_schema_and_docs_are_served(anon):
    schema = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/organizations" in schema.json()["paths"]
    docs = anon.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr" not in docs.content
    assert b"unpkg.com" not in docs.content


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/no-such-thing", 404),
        ("get", "/api/v1/log/entries/-1", 404),
        ("get", "/api/nothing-here", 404),
        ("delete", "/api/v1/log/checkpoint", 405),
        ("post", "/api/v1/schema/", 405),
    ],
)
def test_every_api_error_is_a_problem_document_in_every_mode(settings, debug, method, path, status):
    settings.DEBUG = debug
    response = getattr(Client(), method)(path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert "Traceback" not in response.content.decode()
    if status == 405:
        assert "GET" in response["Allow"]


@pytest.mark.django_db
def test_pages_keep_djangos_debug_page_when_debug_is_on(settings):
    settings.DEBUG = True
    response = Client().get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Page not found" in response.content
