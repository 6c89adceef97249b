"""The project's URLs plus the benchmark's yardstick: the smallest Django JSON view there is,
served through the same middleware, so every endpoint's throughput can be stated relative to it."""

from django.http import JsonResponse
from django.urls import path

from coop.urls import handler500  # noqa: F401
from coop.urls import urlpatterns as project_urlpatterns


def minimal_json(request):
    return JsonResponse({"ok": 1})


urlpatterns = [path("bench/minimal/", minimal_json, name="bench-minimal"), *project_urlpatterns]
