import pytest


@pytest.mark.django_db
def test_health_reports_database_and_broker(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] in {"ok", "embedded"}


@pytest.mark.django_db
def test_health_is_503_naming_an_unreachable_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.BROKER_IS_EMBEDDED = False
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "unavailable"}
