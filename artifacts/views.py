from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import APIException, ParseError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from artifacts import services
from artifacts.downloads import artifact_response
from artifacts.paths import PATH_MAX_BYTES
from artifacts.serializers import ArtifactEntrySerializer
from artifacts.uploads import drain, request_body
from experiments.access import EXPERIMENT_ACCESS
from experiments.models import Experiment

PATH = OpenApiParameter(
    "path",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The file, from the experiment's root, with `/` between folders.",
)
REFUSED_PATH = OpenApiResponse(description="A path that would leave the experiment's files, or a folder in the way.")
NO_ROLE = "Your role on the experiment does not allow this."


class ArtifactTooLargeError(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class ExperimentArtifactViewSet(viewsets.ViewSet):
    """The files an experiment (an MLflow run) saved: viewers list and download them, editors upload, maintainers
    delete (artifacts.services)."""

    permission_classes = [IsAuthenticated]
    # The body of an upload is the file itself, streamed to storage, never parsed.
    parser_classes = []

    def experiment(self) -> Experiment:
        # Among all experiments, so that one the caller may not see answers 403 from the service, a missing one 404.
        experiments = Experiment.objects.with_access(self.request.user)
        experiment = get_object_or_404(experiments, pk=self.kwargs["experiment_pk"])
        EXPERIMENT_ACCESS.remember(self.request.user, experiment, experiment.access_role)
        return experiment

    def _call(self, service, **kwargs):
        try:
            return service(actor=self.request.user, experiment=self.experiment(), **kwargs)
        except services.ArtifactNotFound as exc:
            raise Http404(str(exc)) from exc
        except services.ArtifactTooLarge as exc:
            raise ArtifactTooLargeError(str(exc)) from exc
        except services.ArtifactIncomplete as exc:
            raise ParseError(str(exc)) from exc

    @extend_schema(
        summary="List the files and folders in one folder of an experiment's artifacts",
        parameters=[
            OpenApiParameter(
                "path",
                {"type": "string", "maxLength": PATH_MAX_BYTES},
                description="The folder, from the experiment's root (default: the root). A file or a missing folder "
                "lists nothing.",
            )
        ],
        responses={200: ArtifactEntrySerializer(many=True), 400: REFUSED_PATH},
    )
    def list(self, request, experiment_pk=None):
        entries = self._call(services.artifact_list, path=request.query_params.get("path", ""))
        return Response(ArtifactEntrySerializer(entries, many=True).data)

    @extend_schema(
        summary="Download one file of an experiment's artifacts",
        description="Streamed, with `Content-Length`, `ETag` and one byte range (`Range`, `If-Range`). Anything a "
        "browser could run is sent as an attachment.",
        parameters=[PATH],
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            (206, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The range asked."),
            304: OpenApiResponse(description="`If-None-Match` names the file's current ETag."),
            400: REFUSED_PATH,
            416: OpenApiResponse(description="The range is outside the file."),
        },
    )
    def retrieve(self, request, experiment_pk=None, path=None):
        return artifact_response(request._request, self._call(services.artifact_open, path=path))

    @extend_schema(
        summary="Upload one file to an experiment's artifacts, replacing one of the same path",
        description="The body is the file. Editors and up. A file over `ARTIFACT_MAX_BYTES` answers 413 and nothing "
        "is stored.",
        parameters=[PATH],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={
            201: ArtifactEntrySerializer,
            400: REFUSED_PATH,
            413: OpenApiResponse(description="Larger than `ARTIFACT_MAX_BYTES`."),
        },
    )
    def update(self, request, experiment_pk=None, path=None):
        stream, length = request_body(request._request)
        try:
            size = self._call(services.artifact_put, path=path, stream=stream, length=length)
        except Exception:
            drain(stream, length)
            raise
        return Response(ArtifactEntrySerializer({"path": path, "is_dir": False, "size": size}).data, status=201)

    @extend_schema(
        summary="Delete one file, or a folder with everything in it, of an experiment's artifacts",
        description="Maintainers and up.",
        parameters=[PATH],
        responses={204: None, 400: REFUSED_PATH},
    )
    def destroy(self, request, experiment_pk=None, path=None):
        self._call(services.artifact_delete, path=path)
        return Response(status=status.HTTP_204_NO_CONTENT)
