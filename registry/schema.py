"""OpenAPI schema additions that hold for every endpoint, so that each operation documents every answer it can give."""

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail"],
}
# Field errors ({"field": ["message", ...]}) or a parse error ({"detail": "..."}).
VALIDATION_ERROR = {"type": "object", "additionalProperties": {}}

THROTTLED_OPERATIONS = {("/auth/token/", "post"), ("/login/", "post"), ("/auth/register/", "post"), ("/users/", "post")}


def _error(description: str, schema_name: str = "Error") -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
    }


def add_error_responses(result, generator, request, public):
    """A drf-spectacular postprocessing hook: add the error answers that the conventions give every endpoint.

    drf-spectacular documents what a view declares; the answers that come from the framework around it (validation,
    authentication, permissions, lookups, body limits, content types, throttles, an unavailable database) are added
    here once instead of on every view.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    # A user's e-mail is shown only to that user and to staff, so responses may leave it out.
    if "email" in schemas.get("User", {}).get("required", []):
        schemas["User"]["required"].remove("email")
    schemas["Error"] = ERROR
    schemas["ValidationError"] = VALIDATION_ERROR
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
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
            if (path, method) in THROTTLED_OPERATIONS:
                additions["429"] = _error("Too many attempts; retry after the number of seconds in Retry-After.")
            if path != "/":
                additions["503"] = _error("The database is unavailable; retry after the seconds in Retry-After.")
            for status, response in additions.items():
                responses.setdefault(status, response)
    return result
