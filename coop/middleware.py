from django.conf import settings
from django.utils.cache import patch_cache_control


class SecurityHeadersMiddleware:
    """CSP and related headers on every response; nothing personal is kept in a cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(self), microphone=(), geolocation=(self)"
        )
        user = getattr(request, "user", None)
        if request.path.startswith("/api/") or (user is not None and user.is_authenticated):
            # Pages and API answers for a signed-in user may carry personal data.
            patch_cache_control(response, no_store=True, private=True)
        return response
