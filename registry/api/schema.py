"""OpenAPI descriptions of our authentication schemes (loaded by ApiConfig.ready)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
