import pytest


@pytest.mark.django_db
def test_health_reports_database_and_broker(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] in {"ok", "embedded"}
