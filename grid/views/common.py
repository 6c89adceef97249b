"""Small helpers shared by the grid pages."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from coop.services import DomainError

PAGE_SIZE = 50


def paginate(request: HttpRequest, queryset) -> Page:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Back to the page the form was on (same filters and page), else ``default``."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


def refused(request: HttpRequest, exc: DomainError) -> None:
    messages.error(request, exc.message)


def today() -> date:
    return timezone.localdate()
