"""Shared fixtures: people, organizations, keys and API clients on the real test database."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import translation
from rest_framework.test import APIClient

from registry.accounts import services
from registry.accounts.models import Organization, User
from tests.presence import fresh_presence

_counter = itertools.count(1)


_DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}


@pytest.fixture(autouse=True)
def _fresh_cache(request: pytest.FixtureRequest) -> None:
    # Throttle counters live in the cache (a database table on the embedded default); each
    # test that touches the database starts with none. Pure tests never touch the database.
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if not (marker or _DB_FIXTURES & names):
        return
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & names
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    cache.clear()


@pytest.fixture(autouse=True)
def _no_language_carried_over() -> Iterator[None]:
    """A test that activates Indonesian (directly or through a page) leaves English to the next."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # The production hasher costs ~0.3 s per password by design; tests make hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(email: str | None = None, password: str = "correct horse battery") -> User:
        return User.objects.create_user(email or f"person{next(_counter)}@example.org", password)

    return make


@pytest.fixture
def user(make_user: Callable[..., User]) -> User:
    return make_user("owner@example.org")


@pytest.fixture
def make_org(db: None) -> Callable[..., Organization]:
    def make(owner: User, kind: str = "studio", slug: str | None = None) -> Organization:
        n = next(_counter)
        return services.organization_create(creator=owner, name=f"Org {n}", slug=slug or f"org-{n}", kind=kind)

    return make


@pytest.fixture
def org(user: User, make_org: Callable[..., Organization]) -> Organization:
    return make_org(user)


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for() -> Callable[[User], APIClient]:
    def make(person: User) -> APIClient:
        api = APIClient()
        api.force_authenticate(person)
        return api

    return make


@pytest.fixture
def api(user: User, client_for: Callable[[User], APIClient]) -> APIClient:
    return client_for(user)


@pytest.fixture
def key_client(org: Organization, user: User) -> Callable[..., tuple[APIClient, str]]:
    def make(organization: Organization = org, creator: User = user) -> tuple[APIClient, str]:
        issued = services.api_key_create(
            organization=organization, creator=creator, actor_role="owner", name="ci", presence=fresh_presence()
        )
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
        return api, issued.secret

    return make


@pytest.fixture(scope="session", autouse=True)
def _collected_static(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Production-shaped settings serve hashed static files from a manifest; build it once per
    # run, in a folder of its own so that parallel runs never overwrite each other's files.
    from django.core.management import call_command
    from django.test import override_settings

    with override_settings(STATIC_ROOT=tmp_path_factory.mktemp("static")):
        call_command("collectstatic", "--noinput", verbosity=0)
        yield


@pytest.fixture
def redis_cache(settings: Any) -> Iterator[None]:
    """The production cache backend (Redis), on a database of this test's own, emptied after."""
    import redis

    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": "perf"},
    }
    from django.core.cache import caches

    caches["default"].clear()
    yield
    caches["default"].clear()
