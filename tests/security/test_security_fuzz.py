"""Schemathesis fuzzing of every API operation, in-process through the WSGI app, against our own schema.

Each operation runs as four callers: anonymous, a person who has just signed in with the password
through allauth's headless app API (``X-Session-Token``: a fresh proof of presence, so the
sensitive actions are fuzzed past the re-authentication rule), a studio's API key and an
open-source project maintainer's API key. The demo data (people,
organizations, a subject with signed consents, a published guideline, a project key, an
attestation) plus a webhook and a release are created first, and path parameters are swapped for
those real ids part of the time, so the fuzzer reaches the views' inner branches and not only 404s.

Checks: no 5xx, and status code, content type and body conform to the schema. Generation is
derandomized and bounded (``MAX_EXAMPLES`` per operation and caller) so a run is reproducible
and fits in CI. ``CASES_RUN`` counts the requests sent, per operation and caller; the running total
is also kept in each test's ``user_properties`` (``fuzz_cases_total``) for reports.
"""

from __future__ import annotations

import collections
import io
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.presence import fresh_presence

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

# Cases per operation and caller: 4 callers x (4 + 2) = 24 cases per operation, ~2,000 in all, which
# keeps the module near two minutes on two cores. RESTU_FUZZ_EXAMPLES and RESTU_FUZZ_CONFORMANCE_EXAMPLES
# raise them for a deeper local hunt.
MAX_EXAMPLES = int(os.environ.get("RESTU_FUZZ_EXAMPLES", "4"))
CONFORMANCE_EXAMPLES = int(os.environ.get("RESTU_FUZZ_CONFORMANCE_EXAMPLES", "2"))
CALLERS = ("anonymous", "person", "studio_key", "maintainer_key")
CONFORMANCE_CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]

# Requests sent, per "METHOD path [caller]"; summed for the report.
CASES_RUN: collections.Counter[str] = collections.Counter()

# Real path-parameter values of the current test's data, by parameter name; the hook below reads it.
REAL_IDS: dict[str, list[Any]] = {}

_SCHEMA: dict[str, Any] = {}


def _load_schema() -> schemathesis.BaseSchema:
    from registry.wsgi import application

    if "schema" not in _SCHEMA:
        schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)

        @schema.hook
        def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any]) -> Any:
            # Half of the time (per parameter), a value that names a real object.
            if not path_parameters:
                return st.just(path_parameters)
            choices = {}
            for name, value in path_parameters.items():
                real = REAL_IDS.get(name)
                choices[name] = st.one_of(st.just(value), st.sampled_from(real)) if real else st.just(value)
            return st.fixed_dictionaries(choices)

        _SCHEMA["schema"] = schema
    return _SCHEMA["schema"]


def _world() -> dict[str, Any]:
    """The demo data plus keys, a webhook and a release; the real ids and each caller's headers."""
    from consent.models import Consent, Release, Representative, Subject, SubjectKey, Vouch
    from consent.services import releases
    from guidelines.models import Attestation, ControlProof, GuidelineVersion, ProjectKey
    from registry.accounts import services as accounts
    from registry.accounts.models import ApiKey, Membership, Organization, User
    from registry.events import services as events
    from registry.events.models import Delivery, WebhookEndpoint
    from registry.transparency.models import LogEntry

    call_command("demo_consents", stdout=io.StringIO())
    call_command("demo_guidelines", stdout=io.StringIO())
    performer = User.objects.get(email="performer@demo.restu.example")
    maintainer = User.objects.get(email="maintainer@demo.restu.example")
    studio_owner = User.objects.get(email="studio@demo.restu.example")
    studio = Organization.objects.get(slug="studio-layar-lebar")
    project = Organization.objects.get(slug="open-faceswap")
    studio_key = accounts.api_key_create(
        organization=studio, creator=studio_owner, actor_role="owner", name="fuzz", presence=fresh_presence()
    )
    project_key = accounts.api_key_create(
        organization=project, creator=maintainer, actor_role="owner", name="fuzz", presence=fresh_presence()
    )
    events.webhook_create(
        organization=studio, actor_role="owner", url="https://hooks.example.org/restu", events=["consent.revoked"]
    )
    subject = Subject.objects.first()
    consent = Consent.objects.filter(subject=subject).first()
    releases.release_create(
        organization=studio,
        title="Sang Penari 2",
        release_date=timezone.now().date() + timedelta(days=30),
        territories=["ID"],
        appearances=[{"subject": subject.public_id, "media": ["face"], "activity": "generate", "purpose": "film_tv"}],
        tools=[],
        user=studio_owner,
    )
    from registry.management.commands.demo import DEMO_PASSWORD

    login = Client().post(
        "/_allauth/app/v1/auth/login",
        {"email": performer.email, "password": DEMO_PASSWORD},
        content_type="application/json",
    )
    assert login.status_code == 200, login.content[:500]
    session_token = login.json()["meta"]["session_token"]

    def ids(model: Any, field: str = "public_id") -> list[str]:
        return [str(v) for v in model.objects.values_list(field, flat=True)[:5]]

    real = {
        "subject_id": ids(Subject),
        "consent_id": ids(Consent),
        "kid": ids(SubjectKey, "kid") + ids(ProjectKey, "kid"),
        "vouch_id": ids(Vouch),
        "rep_id": ids(Representative),
        "org_id": [o.public_id for o in (studio, project)],
        "user_id": [u.public_id for u in (performer, maintainer, studio_owner)],
        "slug": sorted({v.guideline.slug for v in GuidelineVersion.objects.select_related("guideline")}),
        "version": sorted(set(ids(GuidelineVersion, "version"))),
        "proof_id": ids(ControlProof),
        "attestation_id": ids(Attestation),
        "release_id": ids(Release),
        "webhook_id": ids(WebhookEndpoint),
        "delivery_id": ids(Delivery),
        "key_id": ids(ApiKey),
        "index": list(LogEntry.objects.values_list("index", flat=True)[:5]),
    }
    assert consent is not None
    assert Membership.objects.filter(user=performer).exists()
    headers = {
        "anonymous": {},
        "person": {"X-Session-Token": session_token},
        "studio_key": {"Authorization": f"Bearer {studio_key.secret}"},
        "maintainer_key": {"Authorization": f"Bearer {project_key.secret}"},
    }
    return {"real": {k: v for k, v in real.items() if v}, "headers": headers}


@pytest.fixture
def world(db: None) -> Iterator[dict[str, Any]]:
    data = _world()
    REAL_IDS.clear()
    REAL_IDS.update(data["real"])
    yield data
    REAL_IDS.clear()


def _operations() -> list[schemathesis.APIOperation]:
    # RESTU_FUZZ_ONLY=/api/v1/log narrows a local run to the operations whose path contains it.
    only = os.environ.get("RESTU_FUZZ_ONLY", "")
    operations = [op for op in (r.ok() for r in _load_schema().get_all_operations()) if only in op.path]
    # The person may erase themselves (a valid body is one enum value away): fuzz that last, so
    # every other operation still meets a signed-in person.
    return sorted(operations, key=lambda op: op.path == "/api/v1/me/erasure")


def _fuzz(
    operation: schemathesis.APIOperation, headers: dict[str, str], caller: str, checks: list[Any], max_examples: int
) -> list[str]:
    """Send one operation's generated cases (valid and invalid) as one caller; the failures, one line each."""
    failures: list[str] = []
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: every failure is reported as found
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    def run(case: schemathesis.Case) -> None:
        sent = {**(case.headers or {}), **headers}
        response = case.call(headers=sent)
        CASES_RUN[f"{operation.label} [{caller}]"] += 1
        try:
            case.validate_response(response, checks=checks, headers=sent)
        except BaseExceptionGroup as group:  # schemathesis' FailureGroup: collect, and go on with the next case
            for failure in group.exceptions:
                title = getattr(failure, "title", type(failure).__name__)
                curl = case.as_curl_command(headers=sent)
                failures.append(f"{operation.label} as {caller}: {response.status_code} {title}\n    {curl}")

    run()
    return failures


def _run_all(caller: str, world: dict[str, Any], checks: list[Any], max_examples: int) -> list[str]:
    failures: list[str] = []
    for operation in _operations():
        failures += _fuzz(operation, world["headers"][caller], caller, checks, max_examples)
    # One line per distinct (operation, status, check): the first reproduction of each.
    seen: dict[str, str] = {}
    for line in failures:
        seen.setdefault(line.split("\n")[0], line)
    return sorted(seen.values())


@pytest.mark.parametrize("caller", CALLERS)
def test_no_operation_answers_a_server_error(
    caller: str, world: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    failures = _run_all(caller, world, [not_a_server_error], MAX_EXAMPLES)
    request.node.user_properties.append(("fuzz_cases_total", sum(CASES_RUN.values())))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("caller", CALLERS)
def test_every_response_conforms_to_the_schema(
    caller: str, world: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    failures = _run_all(caller, world, CONFORMANCE_CHECKS, CONFORMANCE_EXAMPLES)
    request.node.user_properties.append(("fuzz_cases_total", sum(CASES_RUN.values())))
    assert not failures, "\n".join(failures)
