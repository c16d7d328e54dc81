"""OpenAPI schema additions that hold for every endpoint, so that each operation documents every answer it can give."""

import re

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample

from common.numbers import INT64_MAX, INT64_MIN

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail"],
}
# Field errors ({"field": ["message", ...]}) or a parse error ({"detail": "..."}).
VALIDATION_ERROR = {"type": "object", "additionalProperties": {}}
# What the JSON parser (common.parsers) takes anywhere in a body: integers within 64 bits, finite numbers, strings
# without NUL or unpaired surrogates. Unknown fields of a body are ignored, but must be such values too.
JSON_VALUE_REF = {"$ref": "#/components/schemas/JsonValue"}
JSON_VALUE = {
    "description": "Any JSON value whose integers fit in 64 bits.",
    "nullable": True,
    "anyOf": [
        {"type": "string", "pattern": "^[^\\u0000]*$"},
        {"type": "boolean"},
        {"type": "integer", "format": "int64", "minimum": INT64_MIN, "maximum": INT64_MAX},
        {"type": "number", "format": "double"},
        {"type": "array", "items": JSON_VALUE_REF},
        {"type": "object", "additionalProperties": JSON_VALUE_REF},
    ],
}

# Routes that repeat another route's operation (see registry.urls): left out, so each operation is shown once.
ALIASES = {"/healthcheck", "/auth/register", "/login", "/me"}


def body_example(summary: str, **value) -> OpenApiExample:
    """A request body's example, as Swagger UI's "Try it out" starts from it (request bodies only)."""
    return OpenApiExample(summary, value=value, request_only=True)


def exclude_aliases(endpoints):
    """A drf-spectacular preprocessing hook: document each operation once, under its main path."""
    return [endpoint for endpoint in endpoints if endpoint[0].rstrip("/") not in ALIASES]


class UnlistedSchemeMixin:
    """For an OpenApiAuthenticationExtension whose class the docs should not offer as a scheme of its own (it shares
    another scheme, or cannot be used from the docs): it adds no scheme and no requirement."""

    name: list[str] = []
    priority = 1

    def get_security_definition(self, auto_schema) -> list:
        return []

    def get_security_requirement(self, auto_schema) -> None:
        return None


class RegistryAutoSchema(AutoSchema):
    """drf-spectacular's schema of an operation, with the 429 answer wherever the view throttles the operation, and the
    401 wherever it checks credentials that it does not need."""

    def _get_paginator(self):
        # Only reads are paged: a write that answers a list (recording metric points) takes no `limit` or `offset`.
        return super()._get_paginator() if self.method == "GET" else None

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        if self.view.get_throttles():
            responses["429"] = _error("Too many attempts; retry after the number of seconds in Retry-After.")
        security = operation.get("security")
        if self.view.get_authenticators() and (not security or {} in security):
            # Open to anyone, but credentials that are sent are checked: a stale token answers 401.
            responses["401"] = _error("Invalid or expired credentials (this operation needs none).")
        return operation


def _error(description: str, schema_name: str = "Error") -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
    }


def _blank_or_pattern(schema: dict) -> dict:
    """drf-spectacular writes a blank-allowed field with a pattern as `oneOf: [pattern, maxLength 0]`; where the pattern
    itself takes "", the blank is matched twice, which `oneOf` forbids. Keep the pattern alone there."""
    branches = schema.get("oneOf")
    if (
        isinstance(branches, list)
        and len(branches) == 2
        and branches[1] == {"type": "string", "maxLength": 0}
        and "pattern" in branches[0]
        and re.search(branches[0]["pattern"], "")
    ):
        return {**{key: value for key, value in schema.items() if key != "oneOf"}, **branches[0]}
    return schema


def _state_json_values(schemas: dict) -> None:
    """Say in every request body, and in free-form JSON fields, which values the parser takes."""
    for name, schema in schemas.items():
        properties = schema.get("properties", {})
        for field_name, field in properties.items():
            properties[field_name] = _blank_or_pattern(field)
        if not name.endswith("Request") or schema.get("type") != "object":
            continue
        schema.setdefault("additionalProperties", JSON_VALUE_REF)
        for field in schema.get("properties", {}).values():
            if field.get("type") == "object" and field.get("additionalProperties") == {}:
                field["additionalProperties"] = JSON_VALUE_REF


def add_error_responses(result, generator, request, public):
    """A drf-spectacular postprocessing hook: add the error answers that the conventions give every endpoint.

    drf-spectacular documents what a view declares; the answers that come from the framework around it (validation,
    authentication, permissions, lookups, body limits, content types, throttles, an unavailable database) are added
    here once instead of on every view.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    schemas["ValidationError"] = VALIDATION_ERROR
    schemas["JsonValue"] = JSON_VALUE
    _state_json_values(schemas)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            for parameter in operation.get("parameters", []):
                # An empty list (`?status=`) is refused like any empty non-text filter value.
                if parameter.get("schema", {}).get("type") == "array":
                    parameter["schema"].setdefault("minItems", 1)
            responses = operation.setdefault("responses", {})
            additions = {}
            if operation.get("parameters") or "requestBody" in operation:
                additions["400"] = _error("Invalid input: field errors, or a parse error.", "ValidationError")
            if "requestBody" in operation or method in {"post", "put", "patch"}:
                additions["400"] = _error("Invalid input: field errors, or a parse error.", "ValidationError")
                additions["413"] = _error("The request body is larger than 1 MiB.")
                additions["415"] = _error("Unsupported content type.")
            security = operation.get("security", [])
            if security and {} not in security:
                additions["401"] = _error("Missing, invalid or expired credentials.")
                additions["403"] = _error("Authenticated, but not allowed to do this.")
            if "{" in path:
                additions["404"] = _error("No such object.")
            if any(parameter.get("in") == "query" for parameter in operation.get("parameters", [])):
                # gunicorn's own answer (limit_request_line), before the service sees the request: not JSON.
                additions["414"] = {"description": "The request line (the URL with its query) is over 4094 bytes."}
            if path != "/":
                additions["503"] = _error("The database is unavailable; retry after the seconds in Retry-After.")
            for status, response in additions.items():
                responses.setdefault(status, response)
    return result
