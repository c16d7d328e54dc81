import logging

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

logger = logging.getLogger(__name__)

INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
PERMISSION_DENIED = "PERMISSION_DENIED"
UNAUTHENTICATED = "UNAUTHENTICATED"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
BAD_REQUEST = "BAD_REQUEST"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"


class MlflowError(Exception):
    """An error answered as MLflow answers it: `{"error_code", "message"}` with the HTTP status MLflow uses."""

    def __init__(self, message: str, error_code: str = INVALID_PARAMETER_VALUE, status: int = 400):
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.status = status


def does_not_exist(message: str) -> MlflowError:
    return MlflowError(message, RESOURCE_DOES_NOT_EXIST, 404)


def error_body(error_code: str, message: str) -> dict:
    return {"error_code": error_code, "message": message}


def _validation_message(exc: DjangoValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
    return " ".join(exc.messages)


def _drf_message(detail) -> str:
    if isinstance(detail, dict):
        return " ".join(f"{field}: {_drf_message(value)}" for field, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_drf_message(item) for item in detail)
    return str(detail)


def mlflow_exception_handler(exc, context):
    """Every error of the MLflow API as MLflow's JSON, and never a 5xx or 429 for a deterministic error: the MLflow
    client retries those (POSTs included) for minutes before the user sees anything."""
    headers = {}
    if isinstance(exc, MlflowError):
        status, code, message = exc.status, exc.error_code, exc.message
    elif isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        status, code, message = 401, UNAUTHENTICATED, _drf_message(exc.detail)
        authenticate_header = context["view"].get_authenticate_header(context["request"])
        if authenticate_header:
            headers["WWW-Authenticate"] = authenticate_header
    elif isinstance(exc, (exceptions.PermissionDenied, DjangoPermissionDenied)):
        status, code, message = 403, PERMISSION_DENIED, str(exc) or "Permission denied."
    elif isinstance(exc, (Http404, exceptions.NotFound, ObjectDoesNotExist)):
        status, code, message = 404, RESOURCE_DOES_NOT_EXIST, str(exc) or "Not found."
    elif isinstance(exc, exceptions.Throttled):
        # Not deterministic: waiting and retrying is the right thing, and the client honours Retry-After.
        status, code, message = 429, "RESOURCE_EXHAUSTED", _drf_message(exc.detail)
        if exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + 1)
    elif isinstance(exc, exceptions.MethodNotAllowed):
        status, code, message = 405, ENDPOINT_NOT_FOUND, _drf_message(exc.detail)
    elif isinstance(exc, DjangoValidationError):
        status, code, message = 400, INVALID_PARAMETER_VALUE, _validation_message(exc)
    elif isinstance(exc, exceptions.APIException) and exc.status_code < 500 and exc.status_code != 429:
        status, code, message = 400, INVALID_PARAMETER_VALUE, _drf_message(exc.detail)
    elif isinstance(exc, (OperationalError, InterfaceError)):
        # Truly temporary: here a retry is what the client should do.
        logger.warning("Database unavailable: %s", exc)
        status, code, message = 503, "TEMPORARILY_UNAVAILABLE", "The database is unavailable. Try again shortly."
        headers["Retry-After"] = "5"
    else:
        logger.exception("Unhandled error in the MLflow API")
        status, code, message = 500, "INTERNAL_ERROR", "Internal server error."
    return Response(error_body(code, message), status=status, headers=headers)


def endpoint_not_found(request, *args, **kwargs):
    """Any path under the MLflow API that is not one of its endpoints."""
    return JsonResponse(error_body(ENDPOINT_NOT_FOUND, f"No API endpoint at {request.path}."), status=404)


def artifacts_not_implemented(request, *args, **kwargs):
    """A route of MLflow's artifact proxy that is not offered (multipart uploads): a clear 501, which the client
    does not retry."""
    return JsonResponse(error_body(NOT_IMPLEMENTED, "This artifact route is not supported by this server."), status=501)
