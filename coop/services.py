"""Writes for the organisation core. Each service is one transaction."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.contrib.auth.models import Group
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from coop.models import AuditEvent, OrgUnit, RequestKey, User
from coop.roles import Role


class DomainError(Exception):
    """A business rule refused the operation; the message is for the user (translated)."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class ConflictError(DomainError):
    """The operation is not possible in the object's current state, or lost a race."""

    status_code = 409


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: Any,
    from_state: str = "",
    to_state: str = "",
    comment: str = "",
    data: dict | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        from_state=from_state,
        to_state=to_state,
        comment=comment,
        data=data or {},
    )


M = TypeVar("M", bound=models.Model)


def once_per_key(key: str, action: str, model: type[M], create: Callable[[], M]) -> M:
    """Run ``create`` once for a form's one-time ``key``: a second submission of the same form
    (double click, back and submit again) returns what the first created. Call it inside the
    service's transaction. Two submissions at the same moment meet on the key's unique index:
    the second waits for the first to commit, then returns its object (or, if the first was
    refused and rolled back, runs itself). An empty key (API callers) runs ``create`` plainly."""
    key = (key or "").strip()
    if not key:
        return create()
    if len(key) > 64:
        raise DomainError(_("The form has expired; open it again."), field="idempotency_key")
    try:
        with transaction.atomic():
            claimed = RequestKey.objects.create(key=key, action=action)
    except IntegrityError:
        earlier = RequestKey.objects.get(key=key)
        if earlier.action != action or earlier.object_id is None:
            raise ConflictError(
                _("This form was already used for something else; open it again."), code="key"
            ) from None
        return model.objects.get(pk=earlier.object_id)
    result = create()
    claimed.object_id = result.pk
    claimed.save(update_fields=["object_id"])
    return result


def keyed(action: str, model: type[M]) -> Callable[[Callable[..., M]], Callable[..., M]]:
    """A service taking an optional ``request_key=`` keyword: the service runs once per key
    (``once_per_key``). Put it under ``@transaction.atomic``, so the key is claimed in the
    service's transaction and a refusal frees it again."""

    def decorate(service: Callable[..., M]) -> Callable[..., M]:
        @functools.wraps(service)
        def run(*args: Any, request_key: str = "", **kwargs: Any) -> M:
            return once_per_key(request_key, action, model, lambda: service(*args, **kwargs))

        return run

    return decorate


def audit_record_many(rows: Iterable[dict], *, batch_size: int = 1000) -> int:
    """Many audit rows in one INSERT per batch, for sweeps and batch operations over hundreds of
    objects. Each row holds ``audit_record``'s fields, with ``object_type`` and ``object_id``
    given directly (sweeps work on ids from ``UPDATE … RETURNING``, not on loaded objects)."""
    events = [
        AuditEvent(
            actor=row.get("actor"),
            action=row["action"],
            object_type=row["object_type"],
            object_id=str(row["object_id"]),
            from_state=row.get("from_state", ""),
            to_state=row.get("to_state", ""),
            comment=row.get("comment", ""),
            data=row.get("data") or {},
        )
        for row in rows
    ]
    AuditEvent.objects.bulk_create(events, batch_size=batch_size)
    return len(events)


_PARENT_KIND = {
    OrgUnit.Kind.BRANCH: OrgUnit.Kind.HEAD_OFFICE,
    OrgUnit.Kind.OUTLET: OrgUnit.Kind.BRANCH,
}


@transaction.atomic
def org_unit_create(
    *,
    code: str,
    name: str,
    kind: str,
    parent: OrgUnit | None = None,
    address: str = "",
    actor: User | None = None,
) -> OrgUnit:
    if kind == OrgUnit.Kind.HEAD_OFFICE:
        if parent is not None:
            raise DomainError(_("The head office has no parent unit."), field="parent")
        if OrgUnit.objects.filter(kind=OrgUnit.Kind.HEAD_OFFICE).exists():
            raise DomainError(_("There is already a head office."), field="kind")
    elif parent is None or parent.kind != _PARENT_KIND[kind]:
        raise DomainError(
            _("A %(kind)s must belong to a %(parent)s.")
            % {"kind": OrgUnit.Kind(kind).label, "parent": _PARENT_KIND[kind].label},
            field="parent",
        )
    if OrgUnit.objects.filter(code=code).exists():
        raise DomainError(_("The code %(code)s is already used.") % {"code": code}, field="code")
    unit = OrgUnit(code=code, name=name, kind=kind, parent=parent, address=address, path="")
    unit.save()
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    audit_record(actor=actor, action="org_unit.create", obj=unit, data={"code": code})
    return unit


@transaction.atomic
def staff_create(
    *,
    username: str,
    name: str,
    org_unit: OrgUnit,
    roles: list[str],
    password: str | None,
    employee_no: str = "",
    email: str = "",
    actor: User | None = None,
) -> User:
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise DomainError(_("Unknown role: %(role)s") % {"role": ", ".join(sorted(unknown))})
    if User.objects.filter(username=username).exists():
        raise DomainError(
            _("The user name %(name)s is taken.") % {"name": username}, field="username"
        )
    user = User(
        username=username,
        name=name,
        org_unit=org_unit,
        employee_no=employee_no,
        email=email,
        is_staff=Role.SYSADMIN in roles,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    audit_record(actor=actor, action="staff.create", obj=user, data={"roles": sorted(roles)})
    return user
