"""OpenAPI descriptions of our authentication schemes (loaded by ApiConfig.ready) and of problem documents."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from registry.api.problems import _TITLES, PROBLEM_CONTENT_TYPE


class ApiKeyScheme(OpenApiAuthenticationExtension):
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
# ``registry.api.problems``; views declare theirs with ``problems(...)`` so that the schema names
# every status an operation can answer, e.g.
#     @extend_schema(request=In, responses={201: Out, **problems(400, 401, 403, 404, 409, 429)})


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem document, as ``registry.api.problems.problem`` builds it."""

    type = serializers.URLField(help_text="A URI naming the kind of problem (https://restu.example/problems/…).")
    title = serializers.CharField(help_text="A short, human-readable summary of the kind of problem.")
    status = serializers.IntegerField(min_value=400, max_value=599, help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong with this request, for a person to read.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Invalid fields (dotted paths; ``__all__`` for the whole input) and their messages.",
    )
    instance = serializers.CharField(required=False, help_text="The request path the problem occurred at.")


# Statuses that any API operation may answer whatever it does: bad credentials and throttling.
ALWAYS = (401, 429)
# Reads of one object by id: plus not found (or not visible to the caller) and forbidden.
READ = (*ALWAYS, 403, 404)
# Writes with a JSON body: plus validation, conflict, too large, wrong media type, Idempotency-Key reuse.
WRITE = (*READ, 400, 409, 413, 415, 422)


def problems(*statuses: int) -> dict[tuple[int, str], OpenApiResponse]:
    """``responses`` entries declaring a problem document for each status (duplicates are fine)."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(response=ProblemSerializer, description=_TITLES.get(status, ""))
        for status in sorted(set(statuses))
    }


def declare_problem_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every operation may answer the problem documents in ALWAYS.

    Views still declare the statuses particular to them with ``problems(...)``; this hook only adds
    what any operation can answer, so that no operation forgets them.
    """
    return result
