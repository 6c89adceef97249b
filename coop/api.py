"""API plumbing: the root, one place where domain errors become HTTP answers."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import exception_handler as drf_exception_handler

from coop.services import DomainError

# Each app appends (name, url name) here from its urls module.
API_ROOT_ENTRIES: list[tuple[str, str]] = []


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)


@extend_schema(exclude=True)
@api_view(["GET"])
def api_root(request, format=None):
    return Response(
        {
            name: reverse(url_name, request=request, format=format)
            for name, url_name in API_ROOT_ENTRIES
        }
    )


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        if exc.status_code == 400 and exc.field:
            return Response({exc.field: [exc.message], "code": exc.code}, status=400)
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)
