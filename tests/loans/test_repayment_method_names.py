"""The schedule engine is pure Python with its own method names; the models' choices must match."""

from loans import schedules
from loans.models import DayCount, RepaymentMethod


def test_model_choices_and_engine_methods_are_the_same_set():
    assert set(RepaymentMethod.values) == {m.value for m in schedules.RepaymentMethod}
    assert set(DayCount.values) == {d.value for d in schedules.DayCount}
