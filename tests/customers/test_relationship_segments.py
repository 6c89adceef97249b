"""Segment recomputation is set-based, exact and repeatable; segments are defined by services."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from coop.models import AuditEvent
from coop.roles import Role
from coop.services import ConflictError, DomainError
from customers.models import Customer, Segment, SegmentMembership
from customers.segment_rules import today_in_shanghai
from customers.services.relationship import (
    segment_create,
    segment_recompute,
    segment_update,
    segments_recompute_all,
)
from customers.tasks import segments_recompute_all as segments_recompute_all_task
from tests.customers.test_relationship_support import (
    born_years_ago,
    make_customer,
    make_segment,
    membership_ids,
    roles_synced,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("roles_synced")

YOUNG_MIGRANTS = [
    {"attribute": "age", "op": "between", "value": [18, 35]},
    {"attribute": "workplace", "op": "eq", "value": "away"},
]
HIGH_VALUE = [{"attribute": "deposit_balance", "op": "gte", "value": "500000"}]


@pytest.fixture
def am(make_staff):
    return make_staff(Role.ACCOUNT_MANAGER, unit="B01")


@pytest.fixture
def director(make_staff):
    return make_staff(Role.MANAGEMENT, unit="HQ")


@pytest.fixture
def people(am):
    today = today_in_shanghai()
    return {
        "young_away": make_customer(am, birth_date=born_years_ago(25, today), workplace="away"),
        "young_home": make_customer(am, birth_date=born_years_ago(25, today), workplace="home"),
        "old_away": make_customer(am, birth_date=born_years_ago(50, today), workplace="away"),
        "rich": make_customer(am, deposit_balance="800000"),
        "almost_rich": make_customer(am, deposit_balance="499999.99"),
    }


def test_recompute_inserts_exactly_the_matching_customers(people, director):
    segment = make_segment("young-migrants", YOUNG_MIGRANTS)

    count = segment_recompute(segment=segment, actor=director)

    segment.refresh_from_db()
    assert count == 1
    assert membership_ids(segment) == {people["young_away"].pk}
    assert segment.member_count == 1
    assert segment.computed_at is not None
    audit = AuditEvent.objects.get(action="segment.recompute", object_id=str(segment.pk))
    assert (audit.actor, audit.from_state, audit.to_state) == (director, "0", "1")


def test_recompute_twice_gives_the_same_members(people):
    segment = make_segment("high-value", HIGH_VALUE)

    first = segment_recompute(segment=segment)
    members_after_first = membership_ids(segment)
    second = segment_recompute(segment=segment)

    assert first == second == 1
    assert membership_ids(segment) == members_after_first == {people["rich"].pk}
    assert SegmentMembership.objects.filter(segment=segment).count() == 1


def test_a_customer_whose_attributes_change_moves_in_and_out(people):
    segment = make_segment("high-value", HIGH_VALUE)
    segment_recompute(segment=segment)
    assert membership_ids(segment) == {people["rich"].pk}

    # When one depositor grows and the other shrinks
    Customer.objects.filter(pk=people["almost_rich"].pk).update(deposit_balance="500000.00")
    Customer.objects.filter(pk=people["rich"].pk).update(deposit_balance="10.00")
    segment_recompute(segment=segment)

    # Then the memberships follow on the next recompute
    segment.refresh_from_db()
    assert membership_ids(segment) == {people["almost_rich"].pk}
    assert segment.member_count == 1


def test_segments_are_computed_independently(people):
    young = make_segment("young-migrants", YOUNG_MIGRANTS)
    rich = make_segment("high-value", HIGH_VALUE)

    segment_recompute(segment=young)
    segment_recompute(segment=rich)

    assert membership_ids(young) == {people["young_away"].pk}
    assert membership_ids(rich) == {people["rich"].pk}


@pytest.mark.parametrize("extra_customers", [0, 60])
def test_recompute_runs_a_fixed_number_of_queries(
    am, extra_customers, django_assert_max_num_queries
):
    # Given few or many matching customers
    for _ in range(3 + extra_customers):
        make_customer(am, deposit_balance="900000")
    segment = make_segment("high-value", HIGH_VALUE)

    # When recomputing, the statement count does not depend on how many customers match
    with django_assert_max_num_queries(8) as captured:
        count = segment_recompute(segment=segment)

    assert count == 3 + extra_customers
    statements = [q["sql"].split()[0].upper() for q in captured.captured_queries]
    assert statements.count("INSERT") == 2  # the memberships in one statement, plus the audit row


def test_recompute_query_count_is_identical_for_small_and_large_data(am):
    segment = make_segment("high-value", HIGH_VALUE)
    make_customer(am, deposit_balance="900000")
    with CaptureQueriesContext(connection) as small:
        segment_recompute(segment=segment)
    for _ in range(80):
        make_customer(am, deposit_balance="900000")
    with CaptureQueriesContext(connection) as large:
        segment_recompute(segment=segment)

    assert len(small) == len(large)
    assert membership_ids(segment) == set(
        Customer.objects.filter(deposit_balance__gte=500000).values_list("pk", flat=True)
    )


def test_recompute_all_covers_active_segments_and_skips_broken_ones(people):
    young = make_segment("young-migrants", YOUNG_MIGRANTS)
    rich = make_segment("high-value", HIGH_VALUE)
    inactive = make_segment("old", HIGH_VALUE, active=False)
    broken = make_segment("broken", [{"attribute": "branch", "op": "eq", "value": "B77"}])

    results = segments_recompute_all()

    assert results == {"high-value": 1, "young-migrants": 1}
    assert membership_ids(young) == {people["young_away"].pk}
    assert membership_ids(rich) == {people["rich"].pk}
    assert membership_ids(inactive) == set()
    broken.refresh_from_db()
    assert broken.computed_at is None


def test_the_celery_task_recomputes_everything_and_is_idempotent(people):
    make_segment("high-value", HIGH_VALUE)

    first = segments_recompute_all_task.apply().get()
    second = segments_recompute_all_task.apply().get()

    assert first == second == {"high-value": 1}
    assert SegmentMembership.objects.count() == 1


def test_recompute_of_an_inactive_segment_is_a_conflict(people):
    segment = make_segment("old", HIGH_VALUE, active=False)

    with pytest.raises(ConflictError):
        segment_recompute(segment=segment)

    assert membership_ids(segment) == set()


# --- defining segments ---------------------------------------------------------------------


def test_create_validates_stores_normalised_rules_and_computes_members(people, director):
    segment = segment_create(
        actor=director,
        code="high-value",
        name="高价值存款客户",
        rules=[{"attribute": "deposit_balance", "op": "gte", "value": 500000}],
    )

    assert segment.rules == [{"attribute": "deposit_balance", "op": "gte", "value": "500000.00"}]
    assert segment.member_count == 1
    assert membership_ids(segment) == {people["rich"].pk}
    assert segment.created_by == director
    assert AuditEvent.objects.filter(action="segment.create", object_id=str(segment.pk)).exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"code": "bad code!"}, "code"),
        ({"name": "  "}, "name"),
        ({"rules": [{"attribute": "salary", "op": "gte", "value": 1}]}, "rules"),
        ({"rules": []}, "rules"),
    ],
)
def test_create_with_bad_input_creates_nothing(people, director, fields, field):
    values = {"code": "ok", "name": "名称", "rules": HIGH_VALUE, **fields}

    with pytest.raises(DomainError) as refused:
        segment_create(actor=director, **values)

    assert refused.value.field == field
    assert Segment.objects.count() == 0
    assert SegmentMembership.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="segment.").exists()


def test_a_code_is_used_once(director):
    segment_create(actor=director, code="high-value", name="A", rules=HIGH_VALUE)

    with pytest.raises(DomainError) as refused:
        segment_create(actor=director, code="high-value", name="B", rules=HIGH_VALUE)

    assert refused.value.code == "taken"
    assert list(Segment.objects.values_list("name", flat=True)) == ["A"]


def test_new_rules_recompute_at_once_and_deactivation_empties(people, director):
    segment = segment_create(actor=director, code="s", name="S", rules=HIGH_VALUE)

    segment = segment_update(actor=director, segment=segment, rules=YOUNG_MIGRANTS)
    assert membership_ids(segment) == {people["young_away"].pk}
    assert segment.member_count == 1

    segment = segment_update(actor=director, segment=segment, is_active=False)
    assert membership_ids(segment) == set()
    assert segment.member_count == 0

    segment = segment_update(actor=director, segment=segment, is_active=True)
    assert membership_ids(segment) == {people["young_away"].pk}
    actions = list(
        AuditEvent.objects.filter(object_id=str(segment.pk), object_type="customers.segment")
        .order_by("id")
        .values_list("action", "from_state", "to_state")
    )
    assert actions == [
        ("segment.create", "", "active"),
        ("segment.recompute", "0", "1"),
        ("segment.update", "active", "active"),
        ("segment.recompute", "1", "1"),
        ("segment.update", "active", "inactive"),
        ("segment.update", "inactive", "active"),
        ("segment.recompute", "0", "1"),
    ]


def test_update_with_bad_rules_changes_nothing(people, director):
    segment = segment_create(actor=director, code="s", name="S", rules=HIGH_VALUE)

    with pytest.raises(DomainError):
        segment_update(
            actor=director, segment=segment, name="new", rules=[{"attribute": "x", "op": "eq"}]
        )

    segment.refresh_from_db()
    assert (segment.name, segment.rules[0]["attribute"]) == ("S", "deposit_balance")
    assert membership_ids(segment) == {people["rich"].pk}


# --- concurrency -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_recomputes_of_one_segment_run_one_after_the_other(org, make_staff):
    am = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    make_customer(am, deposit_balance="900000")
    segment = make_segment("high-value", HIGH_VALUE)
    finished = threading.Event()
    errors: list[BaseException] = []

    def second_recompute():
        try:
            segment_recompute(segment=segment)
            finished.set()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    # Given a recompute in progress (it holds the segment row)
    with transaction.atomic():
        Segment.objects.select_for_update().get(pk=segment.pk)
        worker = threading.Thread(target=second_recompute)
        worker.start()
        time.sleep(0.5)
        # Then the second one waits instead of interleaving its DELETE and INSERT
        assert not finished.is_set()
    worker.join(timeout=10)

    assert errors == []
    assert finished.is_set()
    assert membership_ids(segment) == set(Customer.objects.values_list("pk", flat=True))


@pytest.mark.worker
def test_the_nightly_task_runs_in_a_real_worker(start_worker, celery_queue_clean, org, make_staff):
    am = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    rich = make_customer(am, deposit_balance="900000")
    segment = make_segment("high-value", HIGH_VALUE)
    start_worker()

    result = segments_recompute_all_task.delay().get(timeout=60)

    assert result == {"high-value": 1}
    assert membership_ids(segment) == {rich.pk}


def test_only_segment_managers_define_segments(am):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        segment_create(actor=am, code="mine", name="我的", rules=HIGH_VALUE)

    assert Segment.objects.count() == 0
