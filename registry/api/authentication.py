"""How API callers prove who they are: Bearer API keys, allauth session tokens, or the browser session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.db import connection
from django.utils.crypto import constant_time_compare
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from registry.accounts.models import ApiKey, Membership, Organization, User
from registry.accounts.services import API_KEY_SCHEME, api_key_digest, api_key_touch
from registry.lib.prepared import Statement

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _CreatorRole(TypedDict):
    creator_role: str | None


_KEY_SQL: tuple[Statement, int, int] | None = None


def _key_sql() -> tuple[Statement, int, int]:
    """The key lookup as plain SQL, with the widths of the key's and the organization's columns.

    It is the query the ORM would build (every column of the key, its organization and its
    creator, and the creator's role there as a subquery), written once per process from the
    models' metadata: building and compiling the ORM query cost more than PostgreSQL spends
    answering it, on every API call."""
    global _KEY_SQL
    if _KEY_SQL is None:
        quote = connection.ops.quote_name

        def column(model: type[Any], name: str) -> str:
            return quote(str(model._meta.get_field(name).column))

        def columns(model: type[Any], alias: str) -> list[str]:
            return [f"{alias}.{quote(str(field.column))}" for field in model._meta.concrete_fields]

        key_columns, org_columns = columns(ApiKey, "k"), columns(Organization, "o")
        selected = [*key_columns, *org_columns, *columns(User, "u")]
        key_org, key_creator = column(ApiKey, "organization"), column(ApiKey, "created_by")
        sql = (
            f"SELECT {', '.join(selected)}, "  # noqa: S608 - quoted names from the models, the value is a parameter
            f"(SELECT m.{column(Membership, 'role')} FROM {quote(Membership._meta.db_table)} m "
            f"WHERE m.{column(Membership, 'organization')} = k.{key_org} "
            f"AND m.{column(Membership, 'user')} = k.{key_creator}) "
            f"FROM {quote(ApiKey._meta.db_table)} k "
            f"JOIN {quote(Organization._meta.db_table)} o ON o.{column(Organization, 'id')} = k.{key_org} "
            f"JOIN {quote(User._meta.db_table)} u ON u.{column(User, 'id')} = k.{key_creator} "
            f"WHERE k.{column(ApiKey, 'digest')} = %s AND k.{column(ApiKey, 'revoked_at')} IS NULL"
        )
        _KEY_SQL = (Statement("api_key", sql), len(key_columns), len(org_columns))
    return _KEY_SQL


_CONVERTERS: dict[type[Any], list[tuple[Any, list[Any]]]] = {}


def _from_row(model: type[Any], values: tuple[Any, ...]) -> Any:
    """An instance from its columns, converted as the ORM converts a fetched row (SQLite's dates
    and times arrive as text)."""
    fields = _CONVERTERS.get(model)
    if fields is None:
        columns = [field.get_col(model._meta.db_table) for field in model._meta.concrete_fields]
        fields = _CONVERTERS[model] = [
            (column, connection.ops.get_db_converters(column) + column.get_db_converters(connection))
            for column in columns
        ]
    converted = []
    for (column, converters), value in zip(fields, values, strict=True):
        for converter in converters:
            value = converter(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, [column.target.attname for column, _ in fields], converted)


def _key_with_creator_role(secret: str) -> WithAnnotations[ApiKey, _CreatorRole] | None:
    """The active key with this secret, its organization, creator and the creator's role there
    (``creator_role``, None once they left): one plain query, on every API call (never cached,
    so a revoked key stops at its next call)."""
    statement, key_width, org_width = _key_sql()
    with connection.cursor() as cursor:
        statement.execute(cursor, [api_key_digest(secret)])
        row = cursor.fetchone()
    if row is None:
        return None
    key = _from_row(ApiKey, row[:key_width])
    key.organization = _from_row(Organization, row[key_width : key_width + org_width])
    key.created_by = _from_row(User, row[key_width + org_width : -1])
    key.creator_role = row[-1]
    return key  # type: ignore[no-any-return]  # an ApiKey carrying the annotation, as the ORM's would


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer restu_…``: acts for the key's organization as its creator."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        secret = secret.strip()
        if not secret.startswith(f"{API_KEY_SCHEME}_"):
            raise exceptions.AuthenticationFailed("This is not a Restu API key.")
        key = _key_with_creator_role(secret)
        # The lookup is by digest; compare again in constant time so no timing tells anything.
        if key is None or not constant_time_compare(key.digest, api_key_digest(secret)):
            raise exceptions.AuthenticationFailed("The API key is unknown or revoked.")
        user = key.created_by
        if not user.is_active or key.creator_role is None:
            raise exceptions.AuthenticationFailed("The API key's creator no longer belongs to its organization.")
        api_key_touch(api_key=key, resolution_seconds=settings.API_KEY_LAST_USED_RESOLUTION_SECONDS)
        return user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
