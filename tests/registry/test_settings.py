"""Settings come from the environment; with DEBUG off a missing secret stops start-up clearly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django, json; from django.conf import settings; django.setup(); "
    "print(json.dumps({'debug': settings.DEBUG, 'engine': settings.DATABASES['default']['ENGINE'], "
    "'broker': settings.CELERY_BROKER_URL, 'hosts': settings.ALLOWED_HOSTS, "
    "'verification': settings.ACCOUNT_EMAIL_VERIFICATION, 'hsts': settings.SECURE_HSTS_SECONDS, "
    "'mode': settings.DATABASES['default'].get('OPTIONS', {}).get('transaction_mode')}))"
)


def run_settings(tmp_path, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "REGISTRY_EMAIL_VERIFICATION",
            "SECURE_SSL_REDIRECT",
            "CACHE_URL",
        }
    }
    clean.update({"DJANGO_SETTINGS_MODULE": "registry.settings", "REGISTRY_DATA_DIR": str(tmp_path)}, **env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60, check=False
    )


def test_missing_secret_key_with_debug_off_is_a_clear_error(tmp_path):
    result = run_settings(tmp_path, ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_missing_allowed_hosts_with_debug_off_is_a_clear_error(tmp_path):
    result = run_settings(tmp_path, SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr


def test_bad_boolean_is_a_clear_error(tmp_path):
    result = run_settings(tmp_path, DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_bad_email_verification_value_is_a_clear_error(tmp_path):
    result = run_settings(tmp_path, DEBUG="1", REGISTRY_EMAIL_VERIFICATION="sometimes")
    assert result.returncode != 0
    assert "REGISTRY_EMAIL_VERIFICATION must be one of" in result.stderr


def test_embedded_default_uses_sqlite_immediate_and_filesystem_broker(tmp_path):
    result = run_settings(tmp_path, DEBUG="1")
    assert result.returncode == 0, result.stderr
    import json

    settings = json.loads(result.stdout)
    assert settings["engine"] == "django.db.backends.sqlite3"
    assert settings["mode"] == "IMMEDIATE"
    assert settings["broker"] == "filesystem://"
    assert settings["verification"] == "optional"
    assert (tmp_path / "secret_key").exists()


def test_production_variables_are_honoured(tmp_path):
    result = run_settings(
        tmp_path,
        SECRET_KEY="y" * 50,
        ALLOWED_HOSTS="restu.example,api.restu.example",
        DATABASE_URL="postgres://u:p@db.internal:5432/restu",
        CELERY_BROKER_URL="redis://cache.internal:6379/0",
    )
    assert result.returncode == 0, result.stderr
    import json

    settings = json.loads(result.stdout)
    assert settings["debug"] is False
    assert settings["engine"] == "registry.db.postgresql"  # Django's, with a cheaper health check
    assert settings["broker"] == "redis://cache.internal:6379/0"
    assert settings["hosts"] == ["restu.example", "api.restu.example"]
    assert settings["verification"] == "mandatory"
    assert settings["hsts"] >= 31536000


@pytest.mark.timeout(120)
def test_check_deploy_is_clean_with_production_variables(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECURE_SSL_REDIRECT", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        SECRET_KEY="z" * 64 + "-not-a-real-secret-9f8e7d",
        ALLOWED_HOSTS="restu.example",
        REGISTRY_DATA_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


PROXY_PROBE = (
    "import django, json; from django.conf import settings; django.setup(); "
    "print(json.dumps({'trusted': settings.REGISTRY_TRUSTED_PROXIES, "
    "'drf': settings.REST_FRAMEWORK['NUM_PROXIES'], 'allauth': settings.ALLAUTH_TRUSTED_PROXY_COUNT}))"
)


def _proxies(tmp_path, **env):
    import json

    clean = {k: v for k, v in os.environ.items() if k != "REGISTRY_TRUSTED_PROXIES"}
    clean.update({"DJANGO_SETTINGS_MODULE": "registry.settings", "REGISTRY_DATA_DIR": str(tmp_path), "DEBUG": "1"})
    clean.update(env)
    result = subprocess.run(
        [sys.executable, "-c", PROXY_PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, (json.loads(result.stdout) if result.returncode == 0 else None)


def test_x_forwarded_for_is_trusted_only_through_declared_proxies(tmp_path):
    _, default = _proxies(tmp_path)
    assert default == {"trusted": 0, "drf": 0, "allauth": 0}
    _, behind_one = _proxies(tmp_path, REGISTRY_TRUSTED_PROXIES="1")
    assert behind_one == {"trusted": 1, "drf": 1, "allauth": 1}


@pytest.mark.parametrize("value", ["one", "-1"])
def test_a_bad_trusted_proxy_count_is_a_clear_error(tmp_path, value):
    result, _ = _proxies(tmp_path, REGISTRY_TRUSTED_PROXIES=value)
    assert result.returncode != 0
    assert "REGISTRY_TRUSTED_PROXIES" in result.stderr


@pytest.mark.parametrize("value", ["-1", "1", "12"])
def test_an_access_log_retention_shorter_than_a_year_and_a_month_is_refused_at_start_up(tmp_path, value):
    result = run_settings(tmp_path, DEBUG="1", REGISTRY_ACCESS_LOG_RETENTION_MONTHS=value)
    assert result.returncode != 0
    assert "REGISTRY_ACCESS_LOG_RETENTION_MONTHS must be 0 (keep every check) or at least 13" in result.stderr


@pytest.mark.parametrize("value", ["0", "13"])
def test_keeping_every_check_or_at_least_thirteen_months_starts(tmp_path, value):
    assert run_settings(tmp_path, DEBUG="1", REGISTRY_ACCESS_LOG_RETENTION_MONTHS=value).returncode == 0
