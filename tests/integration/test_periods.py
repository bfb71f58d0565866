"""Fiscal periods and versioned allocation policies."""

from datetime import date, timedelta

import pytest

from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.models.base import utcnow
from marketplace.services import periods


@pytest.fixture
def treasurer(make_user):
    return make_user("treasurer")


@pytest.fixture
def admin(make_user):
    return make_user("admin")


def policy(period_id, treasurer_id, **overrides):
    values = {"reserve_percent": "15", "hours_weight": "1", "earnings_weight": "1", "cash_percent": "20"}
    values.update(overrides)
    return periods.create_policy(period_id, treasurer_id, **values)


def test_periods_are_named_dated_and_never_overlap(app, treasurer, make_user):
    period = periods.create_period(" FY 2025 ", date(2025, 1, 1), date(2025, 12, 31), treasurer.id)
    assert (period.name, period.status) == ("FY 2025", "open")
    with pytest.raises(ValidationFailed) as overlap:
        periods.create_period("Half", date(2025, 7, 1), date(2026, 6, 30), treasurer.id)
    assert "overlap" in overlap.value.fields["start"]
    with pytest.raises(ValidationFailed) as bad:
        periods.create_period("FY 2025", date(2027, 1, 1), date(2026, 12, 31), treasurer.id)
    assert set(bad.value.fields) == {"name", "end"}
    with pytest.raises(Forbidden):
        periods.create_period("FY 2030", date(2030, 1, 1), date(2030, 12, 31), make_user("member").id)
    assert periods.period_on(date(2025, 5, 5)).id == period.id and periods.period_on(date(2026, 5, 5)) is None


def test_a_period_closes_only_after_it_ends_and_only_forward(app, treasurer):
    today = utcnow().date()
    current = periods.create_period("Now", today - timedelta(days=10), today + timedelta(days=10), treasurer.id)
    with pytest.raises(Conflict, match="only after"):
        periods.close_period(current.id, treasurer.id)
    past = periods.create_period("FY 2025", date(2025, 1, 1), date(2025, 12, 31), treasurer.id)
    assert periods.begin_closing(past.id, treasurer.id).status == "closing"
    with pytest.raises(Conflict, match="closing"):
        periods.begin_closing(past.id, treasurer.id)
    closed = periods.close_period(past.id, treasurer.id)
    assert closed.status == "closed" and closed.closed_by_id == treasurer.id
    with pytest.raises(Conflict, match="closed"):
        periods.close_period(past.id, treasurer.id)


def test_policy_versions_and_the_latest_approved_one_applies(app, treasurer, admin):
    period = periods.create_period("FY 2025", date(2025, 1, 1), date(2025, 12, 31), treasurer.id)
    first, warning = policy(period.id, treasurer.id, reserve_percent="12.50")
    assert warning is None and (first.version, first.reserve_percent) == (1, "12.5")
    assert periods.current_policy(period.id) is None
    periods.approve_policy(first.id, admin.id)
    second, _ = policy(period.id, treasurer.id, reserve_percent="30", small_allocation_threshold_cents=2_500)
    assert periods.current_policy(period.id).id == first.id  # a draft does not apply until approved
    with pytest.raises(Forbidden):
        periods.approve_policy(second.id, treasurer.id)
    periods.approve_policy(second.id, admin.id)
    with pytest.raises(Conflict, match="already approved"):
        periods.approve_policy(second.id, admin.id)
    applied = periods.current_policy(period.id)
    assert applied.id == second.id
    engine_policy = periods.domain_policy(applied)
    assert engine_policy.reserve_percent == 30 and engine_policy.small_allocation_threshold_cents == 2_500
    assert [p.version for p in periods.policy_history(period.id)] == [2, 1]


def test_cash_below_twenty_percent_needs_explicit_consent_and_warns(app, treasurer):
    period = periods.create_period("FY 2025", date(2025, 1, 1), date(2025, 12, 31), treasurer.id)
    with pytest.raises(ValidationFailed) as refused:
        policy(period.id, treasurer.id, cash_percent="10")
    assert "nonqualified" in refused.value.fields["cash_percent"]
    saved, warning = policy(period.id, treasurer.id, cash_percent="10", accept_nonqualified=True)
    assert saved.cash_percent == "10" and "NONQUALIFIED" in warning


@pytest.mark.parametrize(("field", "value"), [
    ("reserve_percent", "101"), ("reserve_percent", "-1"), ("cash_percent", "abc"), ("hours_weight", "1/2"),
    ("revolving_years", 31), ("small_allocation_threshold_cents", -5), ("loss_reserve_percent", "100.5"),
])
def test_bad_policy_values_name_their_field(app, treasurer, field, value):
    period = periods.create_period("FY 2025", date(2025, 1, 1), date(2025, 12, 31), treasurer.id)
    with pytest.raises(ValidationFailed) as bad:
        policy(period.id, treasurer.id, **{field: value})
    assert list(bad.value.fields) == [field]


def test_weights_must_not_both_be_zero(app, treasurer):
    period = periods.create_period("FY 2025", date(2025, 1, 1), date(2025, 12, 31), treasurer.id)
    with pytest.raises(ValidationFailed) as bad:
        policy(period.id, treasurer.id, hours_weight="0", earnings_weight="0")
    assert "both be zero" in bad.value.fields["earnings_weight"]
