"""Access control, proven over every URL pattern and every API operation.

One dataset per module: the demo cooperative (every app's ``seed()``, so objects of each kind
exist in several branches) plus one member of staff per role in branches B01 and B02 and at head
office, and one with no role at all. For each route:

- anonymous: pages redirect to the sign-in page, the API answers 401;
- a member of staff with no role is refused (403) everywhere but the pages every member of staff
  has (workbench, password); the permissions that refusal asked for are recorded;
- each role in B01 and in B02: an object of the other branch answers 404 (or exactly what the
  same role gets for an object of its own branch, when that is 403/405 — refused before any
  object is looked at), for reading and for every write method, and a refused write changes
  nothing; lists, searches and exports never show the other branch's names or numbers;
- a write by a role that lacks a permission the refusal asked for is refused with 403;
- every answer carries the security headers, personal answers ``Cache-Control: no-store``, and
  nothing answers 5xx.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.test import Client

from coop.models import User
from coop.roles import Role
from tests.security.sweep_support import (
    EVERY_STAFF_URL_NAMES,
    PUBLIC_URL_NAMES,
    URL_OBJECTS,
    Route,
    Sweep,
    admin_index,
    branch_lookup,
    model,
    routes,
)

ROUTES = routes()
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Head office sees the whole bank: nothing to hide from it, but its pages must work.
HQ_ROLES = frozenset({Role.MANAGEMENT, Role.RISK_OFFICER, Role.LOAN_COMMITTEE})
# Signing out would end the sessions the sweep shares between tests (anonymous access is checked).
SIGN_OUT_URL_NAMES = frozenset({"logout"})
SECURITY_HEADERS = {
    "Content-Security-Policy": settings.CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


# --- requests ----------------------------------------------------------------------------------


@contextmanager
def _asked_permissions():
    """Record the permissions a request asks about (the view's gate), answering as before."""
    asked: list[str] = []
    original_perm, original_perms = User.has_perm, User.has_perms

    def has_perm(self, perm, obj=None):
        asked.append(perm)
        return original_perm(self, perm, obj)

    def has_perms(self, perm_list, obj=None):
        asked.extend(perm_list)
        return original_perms(self, perm_list, obj)

    User.has_perm, User.has_perms = has_perm, has_perms
    try:
        yield asked
    finally:
        User.has_perm, User.has_perms = original_perm, original_perms


def _send(client: Client, method: str, path: str, *, api: bool, query: dict | None = None):
    if method in ("GET", "DELETE"):
        return client.generic(method, path, data=None) if not query else client.get(path, query)
    if api:
        return client.generic(method, path, data=json.dumps({}), content_type="application/json")
    return client.post(path, {})


class Problems(list):
    def add(self, who: str, method: str, path: str, message: str) -> None:
        self.append(f"{who:<28} {method:<6} {path}: {message}")


def _check_headers(problems: Problems, who, method, path, response, *, personal: bool) -> None:
    if response.status_code >= 500:
        problems.add(who, method, path, f"server error {response.status_code}")
    for header, value in SECURITY_HEADERS.items():
        if response.get(header) != value:
            problems.add(who, method, path, f"{header} is {response.get(header)!r}")
    if personal and "no-store" not in response.get("Cache-Control", ""):
        problems.add(who, method, path, f"Cache-Control {response.get('Cache-Control')!r}")


def _fill(route: Route, sweep: Sweep, branch: str) -> tuple[dict | None, list, str | None]:
    """URL arguments naming objects of ``branch``; the objects; or why they cannot be filled."""
    values, objects = {}, []
    for kwarg in route.kwargs:
        literal = route.value_for(kwarg)
        label = route.model_for(kwarg)
        if literal is not None and label is None:
            values[kwarg] = literal
            continue
        if label is None:
            return (
                None,
                [],
                (
                    f"{route}: no model known for <{kwarg}>; add the route part in front of it "
                    f"(e.g. {route.route.split('<')[0].rstrip('/').split('/')[-1]!r}/) with its "
                    "model to URL_OBJECTS (or a value to URL_VALUES) in "
                    "tests/security/sweep_support.py"
                ),
            )
        obj = sweep.object_for(label, branch)
        if obj is None:
            return (
                None,
                [],
                (
                    f"{route}: the demo has no {label} in {branch}; make that app's seed() create "
                    "one in branches B01 and B02 (the sweep needs one on each side)"
                ),
            )
        values[kwarg] = getattr(obj, literal.rsplit(".", 1)[1]) if literal else obj.pk
        objects.append(obj)
    return values, objects, None


def _snapshot(objects: list) -> list:
    return [type(o).objects.filter(pk=o.pk).values().first() for o in objects]


def _branch_scoped(route: Route) -> bool:
    labels = [route.model_for(k) for k in route.kwargs]
    return any(branch_lookup(model(label)) for label in labels if label)


# --- the sweep ---------------------------------------------------------------------------------


def test_every_url_argument_names_a_known_model():
    unknown = [
        f"{route}: <{kwarg}>"
        for route in ROUTES
        for kwarg in route.kwargs
        if route.model_for(kwarg) is None and route.value_for(kwarg) is None
    ]
    assert unknown == [], (
        "URL arguments the access sweep cannot fill — add the route part in front of each "
        "to URL_OBJECTS in tests/security/sweep_support.py:\n" + "\n".join(unknown)
    )
    for label in set(URL_OBJECTS.values()):
        model(label)  # a typo in the map fails here


def test_the_sweep_sees_every_api_operation():
    from tests.security.sweep_support import _schema_path, api_operations

    swept = {_schema_path(r.route) for r in ROUTES}
    missing = [p for p in api_operations() if re.sub(r"\{[^}]+\}", "{}", p) not in swept]
    assert missing == []


def test_each_branch_has_markers(sweep):
    # The list checks below mean something only if each side has names of its own.
    assert len(sweep.markers["B01"]) >= 20
    assert len(sweep.markers["B02"]) >= 20


def test_django_admin_is_for_signed_in_staff_only(sweep):
    route = admin_index()
    response = Client().get(route.path({}))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_access(route: Route, sweep: Sweep, db):
    problems = Problems()
    sweep.reset_clients()
    own, own_objects, why = _fill(route, sweep, "B01")
    if why:
        pytest.fail(why)
    other, other_objects, why = _fill(route, sweep, "B02")
    if why:
        pytest.fail(why)
    scoped = _branch_scoped(route)
    methods = route.methods or ("GET", "POST")
    public = route.name in PUBLIC_URL_NAMES

    # Anonymous.
    if public:
        path = route.path(own)
        response = _send(Client(), methods[0], path, api=route.is_api)
        _check_headers(problems, "anonymous", methods[0], path, response, personal=True)
    else:
        for method in methods:
            path = route.path(own)
            response = _send(Client(), method, path, api=route.is_api)
            _check_headers(problems, "anonymous", method, path, response, personal=True)
            if route.is_api:
                if response.status_code != 401:
                    problems.add("anonymous", method, path, f"{response.status_code}, not 401")
            elif method != "GET" and response.status_code == 405:
                continue  # the method is refused before anything else: nothing to see
            elif response.status_code != 302 or not response["Location"].startswith("/login/"):
                problems.add("anonymous", method, path, f"{response.status_code}, not sign-in")

    # No role at all: refused, and what the refusal asked for is the route's gate.
    gates: dict[str, list[str]] = {}
    if not public and route.name not in EVERY_STAFF_URL_NAMES:
        for method in methods:
            path = route.path(own)
            with _asked_permissions() as asked:
                response = _send(sweep.no_role, method, path, api=route.is_api)
            _check_headers(problems, "no role", method, path, response, personal=True)
            if response.status_code not in (403, 405):
                problems.add("no role", method, path, f"{response.status_code}, not 403")
            gates[method] = [p for p in asked if p != "coop.view_full_personal_data"]

    # Each role, in each branch, against its own branch and the other one.
    # (Public routes are not branch data: their answers were checked for headers above.)
    for role in Role.values if route.name not in SIGN_OUT_URL_NAMES and not public else ():
        if role in HQ_ROLES:
            hq = sweep.clients[(role, "HQ")]
            path = route.path(own)
            response = _send(hq, "GET", path, api=route.is_api)
            _check_headers(problems, f"{role}@HQ", "GET", path, response, personal=True)
        for mine, theirs in (("B01", "B02"), ("B02", "B01")):
            client, user = sweep.clients[(role, mine)], sweep.users[(role, mine)]
            who = f"{role}@{mine}"
            mine_values = own if mine == "B01" else other
            theirs_values = other if mine == "B01" else own
            theirs_objects = other_objects if mine == "B01" else own_objects
            # Writes are tried from B01 only: the refusal does not depend on the direction.
            for method in methods if mine == "B01" else ("GET",):
                writes = method in WRITE_METHODS
                own_status = None
                gate = gates.get(method, [])
                lacks = [p for p in gate if not user.has_perm(p)]
                if method == "GET" or (writes and lacks):
                    path = route.path(mine_values)
                    response = _send(client, method, path, api=route.is_api)
                    own_status = response.status_code
                    _check_headers(problems, who, method, path, response, personal=True)
                    if writes and lacks and own_status != 403:
                        problems.add(who, method, path, f"{own_status} without {lacks}")
                    listing = method == "GET" and not route.kwargs and own_status == 200
                    if listing:
                        probe = sweep.object_for("customers.Customer", theirs).name
                        markers = sweep.markers[theirs]
                        _check_list(
                            problems, who, route, client, response, markers, probe, mine == "B01"
                        )
                if not scoped:
                    continue
                path = route.path(theirs_values)
                before = _snapshot(theirs_objects)
                response = _send(client, method, path, api=route.is_api)
                _check_headers(problems, who, method, path, response, personal=True)
                status = response.status_code
                refused_before_lookup = own_status in (403, 405) and status == own_status
                if status != 404 and not refused_before_lookup and status not in (403, 405):
                    problems.add(who, method, path, f"other branch's object answered {status}")
                if writes and _snapshot(theirs_objects) != before:
                    problems.add(who, method, path, "other branch's object was changed")

    assert not problems, f"{route}:\n" + "\n".join(problems)


def _check_list(problems: Problems, who, route, client, response, markers, probe, search) -> None:
    """A list, search or export: the other branch's names and numbers never appear, also when
    one of its customers is searched for by name (a search form may echo the name typed)."""
    path = route.path({})
    body = _body(response)
    leaked = sorted(m for m in markers if m in body)
    if leaked:
        problems.add(who, "GET", path, f"shows the other branch's {leaked[:5]}")
    if not search:
        return
    query = {"q": probe, "search": probe, "name": probe, "limit": 500}
    searched = client.get(path, query)
    if searched.status_code >= 500:
        problems.add(who, "GET", path, f"search answered {searched.status_code}")
    body = _body(searched)
    leaked = sorted(m for m in markers if m in body and m != probe)
    if leaked:
        problems.add(who, "GET", f"{path}?q={probe}", f"shows the other branch's {leaked[:5]}")


def _body(response) -> str:
    from coop.middleware import response_text

    data = b"".join(response.streaming_content) if response.streaming else response.content
    return response_text(response.get("Content-Type", ""), data)
