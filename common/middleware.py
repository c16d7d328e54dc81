import re

from django.conf import settings
from django.http import JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils.cache import add_never_cache_headers

from common.parsers import UNSTORABLE_TEXT, holds_unstorable_text

# Form bodies, which Django parses into request.POST.
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def refusal(request, status: int, message: str) -> JsonResponse:
    """An error answered before any view runs, in the shape the caller reads: MLflow's for its client."""
    if request.path.startswith("/api/2.0/mlflow"):  # MLflow's client reads only its own error shape.
        return JsonResponse({"error_code": "INVALID_PARAMETER_VALUE", "message": message}, status=status)
    return JsonResponse({"detail": message}, status=status)


class RequestSizeLimitMiddleware:
    """Answer 413 to a request whose declared body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE, and 411 to a body sent
    with a transfer coding (chunked) instead of a declared length.

    Django enforces that limit only when `request.body` is read, and REST framework's parsers read the stream
    instead, so the limit is checked here, before anything reads the body. Django reads a body only up to its
    Content-Length (none: an empty body), so a chunked one would pass as empty and a write would answer 200 having
    changed nothing; and not every WSGI server decodes chunked input (Django's development server does not). Routes
    that stream their body to storage (STREAMED_BODY_PATHS) read it, chunked or not, under a limit of their own.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.streamed = [re.compile(pattern) for pattern in settings.STREAMED_BODY_PATHS]

    def __call__(self, request):
        if any(pattern.match(request.path_info) for pattern in self.streamed):
            return self.get_response(request)
        if request.META.get("HTTP_TRANSFER_ENCODING", "identity").strip().lower() != "identity":
            return refusal(request, 411, "Send the request body with a Content-Length header, not chunked.")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length header."}, status=400)
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return refusal(request, 413, f"Request body is larger than the limit of {limit} bytes.")
        return self.get_response(request)


class UnstorableTextMiddleware:
    """Answer 400 to a query string or a form body holding a NUL or an unpaired surrogate, by the rule JSON bodies
    follow (common.parsers.holds_unstorable_text), for every route: the admin's and the API's logins, MLflow's
    reads and every list filter. The answer names the fields in error, as a serializer's does (MLflow's client reads
    its own shape).

    Only POST bodies are forms here: REST framework parses JSON alone, but for the login that also takes forms.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        fields = _unstorable_fields(request.GET)
        if not fields and request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
            # The raw body first, kept on the request (RequestSizeLimitMiddleware bounds it), so that the view's own
            # parser can still read it; a form Django cannot parse is left to that parser to refuse.
            request.body  # noqa: B018
            try:
                fields = _unstorable_fields(request.POST)
            except MultiPartParserError:
                pass
        if fields:
            if request.path.startswith("/api/2.0/mlflow"):
                return refusal(request, 400, f"Invalid value for parameter {fields[0]!r}: {UNSTORABLE_TEXT}.")
            message = UNSTORABLE_TEXT[0].upper() + UNSTORABLE_TEXT[1:] + "."
            return JsonResponse({name: [message] for name in fields}, status=400)
        return self.get_response(request)


def _unstorable_fields(fields: QueryDict) -> list[str]:
    """The names of the fields whose name or a value holds what no column can store."""
    return [name for name, values in fields.lists() if holds_unstorable_text({name: values})]


class NoStoreMiddleware:
    """Forbid caches to keep dynamic responses, which may carry one user's data; static files keep their headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
