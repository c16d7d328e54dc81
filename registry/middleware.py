import re

from django.conf import settings
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers


class RequestSizeLimitMiddleware:
    """Answer 413 to a request whose declared body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE.

    Django enforces that limit only when `request.body` is read, and REST framework's parsers read the stream
    instead, so the limit is checked here, before anything reads the body. Routes that stream their body to storage
    (STREAMED_BODY_PATHS) have a limit of their own.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.streamed = [re.compile(pattern) for pattern in settings.STREAMED_BODY_PATHS]

    def __call__(self, request):
        if any(pattern.match(request.path_info) for pattern in self.streamed):
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length header."}, status=400)
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            message = f"Request body is larger than the limit of {limit} bytes."
            if request.path.startswith("/api/2.0/mlflow"):  # MLflow's client reads only its own error shape.
                return JsonResponse({"error_code": "INVALID_PARAMETER_VALUE", "message": message}, status=413)
            return JsonResponse({"detail": message}, status=413)
        return self.get_response(request)


class NoStoreMiddleware:
    """Forbid caches to keep dynamic responses, which may carry one user's data; static files keep their headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
