"""``__in_array`` selects exactly what ``__in`` selects, as ``= ANY(ARRAY(…))``, directly and
through a relation; the account manager's scope uses it. The WSGI module freezes the loaded
application out of the garbage collector's full collections."""

from __future__ import annotations

import gc
from datetime import date

import pytest

from coop.roles import Role
from customers.models import Customer, Visit
from customers.selectors import customer_scope_q, customers_visible


@pytest.fixture
def people(org, make_staff):
    am = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="lk_am")
    other = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="lk_am2")
    mine = [
        Customer.objects.create(kind="individual", name=f"自己的{i}", branch=org["B01"], owner=am)
        for i in range(3)
    ]
    backed = Customer.objects.create(
        kind="individual", name="B角客户", branch=org["B01"], owner=other, b_manager=am
    )
    theirs = Customer.objects.create(
        kind="individual", name="别人的", branch=org["B01"], owner=other
    )
    return am, other, mine, backed, theirs


def test_in_array_selects_what_in_selects(people):
    am, _other, mine, _backed, theirs = people
    owned = Customer.objects.filter(owner=am).values("pk")

    as_array = Customer.objects.filter(pk__in_array=owned)
    assert "= ANY(ARRAY(" in str(as_array.query)
    assert set(as_array) == set(Customer.objects.filter(pk__in=owned)) == set(mine)
    assert set(Customer.objects.exclude(pk__in_array=owned)) == set(
        Customer.objects.exclude(pk__in=owned)
    )
    assert theirs in Customer.objects.exclude(pk__in_array=owned)
    # An empty sub-query selects nothing.
    assert not Customer.objects.filter(pk__in_array=Customer.objects.none().values("pk")).exists()
    assert not Customer.objects.filter(
        pk__in_array=Customer.objects.filter(name="无此人").values("pk")
    ).exists()


def test_in_array_through_a_relation(people):
    am, other, mine, _backed, theirs = people
    visit = Visit.objects.create(
        customer=mine[0],
        staff=am,
        visited_on=date(2026, 3, 2),
        channel="phone",
        outcome="contacted",
    )
    Visit.objects.create(
        customer=theirs,
        staff=other,
        visited_on=date(2026, 3, 2),
        channel="phone",
        outcome="contacted",
    )
    owned = Customer.objects.filter(owner=am).values("pk")
    narrowed = Visit.objects.filter(customer__pk__in_array=owned)
    # The foreign key's own column, no join to the customers table.
    assert 'JOIN "customers_customer"' not in str(narrowed.query)
    assert list(narrowed) == [visit]


def test_in_array_wants_a_sub_query():
    with pytest.raises(TypeError):
        list(Customer.objects.filter(pk__in_array=[1, 2]))


def test_the_account_managers_scope_is_one_array_of_ids(people):
    am, other, mine, backed, theirs = people
    scope = customer_scope_q(am)
    assert "= ANY(ARRAY(" in str(Customer.objects.filter(scope).query)
    assert set(customers_visible(am)) == {*mine, backed}
    assert set(customers_visible(other)) == {backed, theirs}


def test_the_wsgi_module_freezes_the_loaded_application():
    from coop.wsgi import application, freeze_loaded_objects

    assert callable(application)
    try:
        frozen = freeze_loaded_objects()
        # The whole loaded project: settings, models, URL modules and views.
        assert frozen > 50_000
        assert gc.get_freeze_count() == frozen
        import risk.views  # loaded by the URL modules, frozen with them

        assert not any(
            obj is risk.views.rules
            for generation in (0, 1, 2)
            for obj in gc.get_objects(generation=generation)
        )
    finally:
        gc.unfreeze()
