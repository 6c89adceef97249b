"""The API token endpoint, under the same per-account lockout as the sign-in page."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from coop.api import ErrorSerializer


class TokenObtainApi(APIView):
    """User name and password in, the user's API token out.

    Failures count towards the same lockout as the sign-in page (django-axes, per account): once
    the account is locked even the right password is refused, with 429 and a body that says so.
    """

    # No session authentication here: a token request carries no CSRF token, and a signed-in
    # browser must not turn a failed password into a success.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        operation_id="auth_token_obtain",
        request=AuthTokenSerializer,
        responses={
            200: inline_serializer("AuthToken", {"token": serializers.CharField()}),
            400: OpenApiResponse(ErrorSerializer, description="Wrong user name or password."),
            429: OpenApiResponse(
                ErrorSerializer, description="The account is locked after repeated failures."
            ),
        },
        auth=[],
    )
    def post(self, request):
        username = str(request.data.get("username", ""))[:150]
        if username and not AxesProxyHandler.is_allowed(request, {"username": username}):
            return Response(
                {
                    "detail": _(
                        "Too many failed sign-in attempts: this account is locked for "
                        "%(minutes)d minutes. Ask the system administrator to unlock it sooner."
                    )
                    % {"minutes": round(settings.AXES_COOLOFF_TIME * 60)},
                    "code": "account_locked",
                },
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


obtain_auth_token = TokenObtainApi.as_view()


# The shape of a 400 answer: DRF's validation errors (field -> messages, "non_field_errors") or a
# domain error (detail and code, or field -> [message] and code) — see coop.api.exception_handler.
VALIDATION_ERROR = {
    "type": "object",
    "description": "Field name -> messages, or a detail with its code.",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {}},
            {"type": "object"},
            {"type": "string"},
        ]
    },
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the error answers every operation can give.

    - 401 wherever credentials are needed (token authentication comes first, so the API answers
      401 with ``WWW-Authenticate: Token`` rather than 403);
    - 400 with the validation error shape wherever the caller sends input (query parameters or
      a body): the documented ``Error`` body had ``detail`` required, which a field error lacks;
    - 404 wherever the path names an object.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ValidationError"] = VALIDATION_ERROR
    error = {"$ref": "#/components/schemas/Error"} if "Error" in schemas else VALIDATION_ERROR
    invalid = {"$ref": "#/components/schemas/ValidationError"}

    def answer(schema, description):
        return {"content": {"application/json": {"schema": schema}}, "description": description}

    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            takes_input = "requestBody" in operation or any(
                p.get("in") == "query" for p in operation.get("parameters", [])
            )
            if takes_input or "400" in responses:
                responses["400"] = answer(invalid, "Invalid input.")
            if "{" in path:
                responses.setdefault("404", answer(error, "Not found, or not in your scope."))
            security = operation.get("security")
            if security and {} not in security:
                responses.setdefault(
                    "401", answer(error, "No valid credentials (sign in, or send a token).")
                )
    return result
