"""The task monitor (system administrators): every beat entry with its last run and failures."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from coop.monitor import selectors

PAGE_SIZE = 50


@login_required
@permission_required("coop.use_admin_tools", raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "coop/monitor_index.html",
        {"tasks": selectors.task_overview(), "window_days": selectors.FAILURE_WINDOW.days},
    )


@login_required
@permission_required("coop.use_admin_tools", raise_exception=True)
def task_history(request: HttpRequest, name: str) -> HttpResponse:
    runs = selectors.task_runs(name)
    page_obj = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "coop/monitor_task.html", {"task_name": name, "page_obj": page_obj})
