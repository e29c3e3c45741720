"""OpenAPI descriptions of our authentication schemes (loaded by ApiConfig.ready) and of problem documents."""

import copy
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from registry.api.problems import _TITLES, PROBLEM_CONTENT_TYPE


class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]  # drf-spectacular's __init_subclass__ is unannotated
    target_class = "registry.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "restu_<prefix>_<secret>",
            "description": "An organization's API key: `Authorization: Bearer restu_…`.",
        }


# --- Problem documents (RFC 9457) -------------------------------------------------------------
# Every error under /api/ is an ``application/problem+json`` document made by
# ``registry.api.problems``. The schema names every status an operation can answer: the hook
# ``declare_problem_responses`` below adds those that follow from how the operation is served
# (credentials, throttling, path parameters, a JSON body, Idempotency-Key, If-Match), and a view
# declares the ones particular to it with ``problems(...)``, e.g. a state conflict:
#     @extend_schema(request=In, responses={200: Out, **problems(409)})


class ProblemSerializer(serializers.Serializer[Any]):
    """An RFC 9457 problem document, as ``registry.api.problems.problem`` builds it."""

    type = serializers.URLField(help_text="A URI naming the kind of problem (https://restu.example/problems/…).")
    title = serializers.CharField(help_text="A short, human-readable summary of the kind of problem.")
    status = serializers.IntegerField(min_value=400, max_value=599, help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong with this request, for a person to read.")
    # Named as the contract says; the metaclass takes declared fields off the class, so .errors still works.
    errors = serializers.DictField(  # type: ignore[assignment]  # a field, not Serializer.errors (see above)
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Invalid fields (dotted paths; ``__all__`` for the whole input) and their messages.",
    )
    instance = serializers.CharField(required=False, help_text="The request path the problem occurred at.")


def problems(*statuses: int) -> dict[tuple[int, str], OpenApiResponse]:
    """``responses`` entries declaring a problem document for each status (duplicates are fine)."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(response=ProblemSerializer, description=_TITLES.get(status, ""))
        for status in sorted(set(statuses))
    }


# ``If-Match`` on an update: a view that calls ``registry.api.etags.check_if_match`` declares it
# (``parameters=[IF_MATCH]``), and the hook below then declares the 412 it can answer.
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="The ETag of the copy you changed (or `*`); a stale one is refused with 412.",
)

# Why each generic status happens, as the schema explains it.
_WHY = {
    400: "The body is not valid JSON or breaks a rule (``errors`` names the fields), a filter's value is "
    "invalid, or the Idempotency-Key header is malformed.",
    401: "No credentials where they are needed, or an unknown, revoked or malformed API key or session token.",
    403: "Not allowed, including a browser session's unsafe request without a valid CSRF token.",
    404: "No such object, or one the caller may not see (the same answer, so existence is not revealed); "
    "for a list, an invalid cursor.",
    409: "A request with the same Idempotency-Key is still being processed.",
    412: "If-Match does not name the resource's current ETag.",
    413: "The request body is larger than the API's limit (1 MiB).",
    415: "The body is not ``application/json``.",
    422: "The Idempotency-Key was already used with a different request.",
    429: "Throttled; ``Retry-After`` says after how many seconds to try again.",
    503: "The registry's database is unreachable for a moment; ``Retry-After`` says when to try again.",
}
_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "description": "The scheme to authenticate with (when credentials were missing or refused).",
        }
    },
    429: {"Retry-After": {"schema": {"type": "integer", "minimum": 1}, "description": "Seconds to wait."}},
    503: {"Retry-After": {"schema": {"type": "integer", "minimum": 1}, "description": "Seconds to wait."}},
}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _generic_statuses(view_class: type, method: str, operation: dict[str, Any]) -> set[int]:
    """The problem statuses this operation can answer because of how it is served, whatever the view does."""
    from rest_framework.authentication import SessionAuthentication

    from registry.api.idempotency import IdempotentPostMixin

    statuses: set[int] = set()
    authenticators = list(getattr(view_class, "authentication_classes", []))
    parameters = operation.get("parameters", [])
    if authenticators:
        # Credentials are checked whenever they are sent, even where anonymous callers are welcome.
        statuses.add(401)
    if method not in _SAFE_METHODS and any(issubclass(a, SessionAuthentication) for a in authenticators):
        statuses.add(403)  # CSRF check of a browser session
    if getattr(view_class, "throttle_classes", []):
        statuses.add(429)
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if any(p.get("in") == "query" and p.get("name") == "cursor" for p in parameters):
        statuses.add(400)  # a cursor the server did not make (registry.api.pagination)
    if method == "GET" and (
        getattr(view_class, "filterset_class", None) or getattr(view_class, "filterset_fields", None)
    ):
        statuses.add(400)  # django-filter refuses an invalid filter value
    if "requestBody" in operation:
        statuses |= {400, 413, 415}
    if method == "POST" and issubclass(view_class, IdempotentPostMixin):
        statuses |= {400, 409, 422}
    if any(p.get("in") == "header" and p.get("name", "").lower() == "if-match" for p in parameters):
        statuses.add(412)
    # Every operation reads the database (or, on the embedded default, the throttles' cache in it):
    # while it is unreachable the answer is a 503 with Retry-After (registry.api.problems).
    statuses.add(503)
    return statuses


def _idempotency_key_parameter() -> dict[str, Any]:
    return {
        "in": "header",
        "name": "Idempotency-Key",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": (
            "A unique key for this creation (1 to 255 printable characters): a repeat with the same key and "
            "body answers the first response again (`Idempotent-Replayed: true`); the same key with another "
            "body is 422; a repeat while the first is being processed is 409. A secret shown once (an API "
            "key, a webhook's signing secret) is never replayed: the repeat has it `null` and "
            '`"secret_redacted": true`.'
        ),
    }


def declare_problem_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook: declare the problem documents every operation can answer.

    What an operation can answer because of how it is served is derived from its view: 401 where
    credentials are checked, 429 where it is throttled, 403 (CSRF) for unsafe methods open to a
    browser session, 404 where the path names an object, 400/413/415 where it reads a JSON body,
    the Idempotency-Key header with its 400/409/422 on creating POSTs, and 412 where the view
    declares ``If-Match``. Statuses particular to a view (a 403 for API keys, a 409 for a state
    conflict, a 400 for a query parameter) are declared on the view with ``problems(...)``; what a
    view declared is never overwritten.
    """
    from registry.api.idempotency import IdempotentPostMixin

    if "Problem" not in result.get("components", {}).get("schemas", {}):
        raise RuntimeError("The Problem component is missing: some view must declare problems(...).")
    views = {(path, method.upper()): callback.cls for path, _regex, method, callback in generator.endpoints}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            view_class = views.get((path, method.upper()))
            if view_class is None or not isinstance(operation, dict) or "responses" not in operation:
                continue
            if method.upper() == "POST" and issubclass(view_class, IdempotentPostMixin):
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("in") == "header" and p.get("name") == "Idempotency-Key" for p in parameters):
                    parameters.append(_idempotency_key_parameter())
                _declare_redacted_secrets(result, operation, getattr(view_class, "idempotency_secret_fields", ()))
            responses = operation["responses"]
            for status in sorted(_generic_statuses(view_class, method.upper(), operation)):
                if str(status) in responses:
                    continue
                response: dict[str, Any] = {
                    "description": _WHY.get(status, _TITLES.get(status, "")),
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": dict(_PROBLEM_REF)}},
                }
                if status in _HEADERS:
                    response["headers"] = copy.deepcopy(_HEADERS[status])
                responses[str(status)] = response
            operation["responses"] = dict(sorted(responses.items()))
        _declare_etags(operations)
    return result


def _declare_redacted_secrets(result: dict[str, Any], operation: dict[str, Any], fields: tuple[str, ...]) -> None:
    """A secret field of a creating POST's answer is null in a replay, which adds ``secret_redacted``."""
    if not fields:
        return
    schemas = result.get("components", {}).get("schemas", {})
    for status, response in operation.get("responses", {}).items():
        if not status.startswith("2"):
            continue
        for media in response.get("content", {}).values():
            ref = media.get("schema", {}).get("$ref", "")
            component = schemas.get(ref.rsplit("/", 1)[-1]) if ref.startswith("#/components/schemas/") else None
            properties = (component or {}).get("properties", {})
            declared = [name for name in fields if name in properties]
            if not declared:
                continue
            for name in declared:
                properties[name]["nullable"] = True
                properties[name]["description"] = (
                    properties[name].get("description", "") + " Null in an Idempotency-Key replay."
                ).strip()
            properties.setdefault(
                "secret_redacted",
                {"type": "boolean", "description": "Present (true) in a replay, whose secret is null."},
            )


def _declare_etags(operations: dict[str, Any]) -> None:
    """Where an update takes If-Match, its resource's reads and updates answer the ETag to send."""
    patch = operations.get("patch")
    if not isinstance(patch, dict) or not any(
        p.get("in") == "header" and p.get("name", "").lower() == "if-match" for p in patch.get("parameters", [])
    ):
        return
    for method in ("get", "patch"):
        for status, response in operations.get(method, {}).get("responses", {}).items():
            if status.startswith("2"):
                response.setdefault("headers", {}).setdefault(
                    "ETag",
                    {"schema": {"type": "string"}, "description": "The resource's current version, for If-Match."},
                )
