from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from coop import selectors
from coop.roles import role_label
from coop.workbench import panels_for, sections_for

logger = logging.getLogger(__name__)


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "coop/workbench.html",
        {"sections": sections_for(request.user), "panels": panels_for(request.user)},
    )


@login_required
@permission_required("coop.view_org_structure", raise_exception=True)
def org_units(request: HttpRequest) -> HttpResponse:
    units = selectors.org_units_with_counts(user=request.user)
    return render(request, "coop/org_units.html", {"units": units})


@login_required
@permission_required("coop.view_branch_staff", raise_exception=True)
def staff_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:50]
    staff = selectors.staff_list(user=request.user, query=query)
    rows = [(member, [role_label(g.name) for g in member.groups.all()]) for member in staff[:500]]
    return render(request, "coop/staff_list.html", {"rows": rows, "q": query})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("healthz: database check failed", exc_info=True)
        return False


def _broker_ok() -> bool:
    try:
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1
        )
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        logger.warning("healthz: broker check failed", exc_info=True)
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database, broker = _database_ok(), _broker_ok()
    body = {
        "status": "ok" if database and broker else "unavailable",
        "database": "ok" if database else "unavailable",
        "broker": "ok" if broker else "unavailable",
    }
    return JsonResponse(body, status=200 if database and broker else 503)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors here: the database may be the reason we are failing.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render({}), status=500)
