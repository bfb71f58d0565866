"""The gig lifecycle table: every combination of state, action and actor, and the shape of the graph."""

import itertools
from collections import deque
from datetime import datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from marketplace.domain.gig_states import (
    ACTIVE_STATES,
    BOOKED_STATES,
    TERMINAL_STATES,
    TRANSITIONS,
    Actor,
    GigAction,
    GigState,
    IllegalTransition,
    allowed_actions,
    is_cancellation_late,
    next_state,
)

# Written out independently of the module's table, so a wrong row in either shows up here.
EXPECTED = {
    (GigState.REQUESTED, GigAction.OFFER): (GigState.OFFERED, {Actor.SYSTEM}),
    (GigState.REQUESTED, GigAction.INVITE): (GigState.OFFERED, {Actor.CLIENT}),
    (GigState.OFFERED, GigAction.ACCEPT): (GigState.ACCEPTED, {Actor.WORKER}),
    (GigState.OFFERED, GigAction.EXPIRE_OFFERS): (GigState.REQUESTED, {Actor.SYSTEM}),
    (GigState.ACCEPTED, GigAction.WITHDRAW): (GigState.OFFERED, {Actor.WORKER}),
    (GigState.ACCEPTED, GigAction.START): (GigState.IN_PROGRESS, {Actor.WORKER}),
    (GigState.IN_PROGRESS, GigAction.COMPLETE): (GigState.COMPLETED, {Actor.WORKER}),
    (GigState.COMPLETED, GigAction.CONFIRM): (GigState.CONFIRMED, {Actor.CLIENT, Actor.SYSTEM}),
    (GigState.COMPLETED, GigAction.DISPUTE): (GigState.DISPUTED, {Actor.CLIENT}),
    (GigState.DISPUTED, GigAction.RESOLVE): (GigState.CONFIRMED, {Actor.ADMIN}),
    (GigState.CONFIRMED, GigAction.REVIEW): (GigState.REVIEWED, {Actor.SYSTEM}),
    (GigState.REQUESTED, GigAction.CANCEL): (GigState.CANCELLED, {Actor.CLIENT, Actor.ADMIN}),
    (GigState.OFFERED, GigAction.CANCEL): (GigState.CANCELLED, {Actor.CLIENT, Actor.ADMIN}),
    (GigState.ACCEPTED, GigAction.CANCEL): (GigState.CANCELLED, {Actor.CLIENT, Actor.ADMIN}),
    (GigState.ACCEPTED, GigAction.NO_SHOW): (GigState.NO_SHOW, {Actor.CLIENT, Actor.ADMIN}),
    (GigState.REQUESTED, GigAction.EDIT): (GigState.REQUESTED, {Actor.CLIENT}),
    (GigState.OFFERED, GigAction.EDIT): (GigState.OFFERED, {Actor.CLIENT}),
}

ALL_COMBINATIONS = list(itertools.product(GigState, GigAction, Actor))


def _is_allowed(state, action, actor):
    row = EXPECTED.get((state, action))
    return row is not None and actor in row[1]


@pytest.mark.parametrize(
    ("state", "action", "actor"), ALL_COMBINATIONS, ids=["-".join(combo) for combo in ALL_COMBINATIONS]
)
def test_every_combination_follows_the_table(state, action, actor):
    if _is_allowed(state, action, actor):
        assert next_state(state, action, actor) == EXPECTED[(state, action)][0]
        assert action in allowed_actions(state, actor)
        return
    with pytest.raises(IllegalTransition) as caught:
        next_state(state, action, actor)
    error = caught.value
    assert (error.state, error.action, error.actor) == (state, action, actor)
    assert str(error).strip() and str(error) == error.message
    assert str(error).endswith(".") and str(error)[0].isupper()
    assert action not in allowed_actions(state, actor)


def test_table_matches_the_specification_and_has_one_row_per_state_and_action():
    rows = {(t.source, t.action): (t.target, set(t.actors)) for t in TRANSITIONS}
    assert len(rows) == len(TRANSITIONS)
    assert rows == EXPECTED


def test_wrong_state_message_names_the_state_and_the_action():
    with pytest.raises(IllegalTransition, match=r"^A gig that is completed cannot be started\.$"):
        next_state(GigState.COMPLETED, GigAction.START, Actor.WORKER)
    with pytest.raises(IllegalTransition, match=r"^A gig that is in progress cannot be edited\.$"):
        next_state(GigState.IN_PROGRESS, GigAction.EDIT, Actor.CLIENT)


def test_wrong_actor_message_names_who_may_act():
    with pytest.raises(IllegalTransition, match=r"^Only the worker can start a gig\.$"):
        next_state(GigState.ACCEPTED, GigAction.START, Actor.CLIENT)
    with pytest.raises(IllegalTransition, match=r"^Only the client or an admin can cancel a gig\.$"):
        next_state(GigState.ACCEPTED, GigAction.CANCEL, Actor.WORKER)


def test_string_values_are_accepted_as_stored_in_the_database():
    assert next_state("in_progress", "complete", "worker") == GigState.COMPLETED
    assert GigState.IN_PROGRESS == "in_progress" and GigState.NO_SHOW.value == "no_show"


def test_allowed_actions_build_the_buttons():
    assert allowed_actions(GigState.ACCEPTED, Actor.WORKER) == [GigAction.WITHDRAW, GigAction.START]
    assert allowed_actions(GigState.ACCEPTED, Actor.CLIENT) == [GigAction.CANCEL, GigAction.NO_SHOW]
    assert allowed_actions(GigState.COMPLETED, Actor.CLIENT) == [GigAction.CONFIRM, GigAction.DISPUTE]
    assert allowed_actions(GigState.REVIEWED, Actor.ADMIN) == []


def test_terminal_and_active_states():
    assert TERMINAL_STATES == {GigState.REVIEWED, GigState.CANCELLED, GigState.NO_SHOW}
    assert ACTIVE_STATES.isdisjoint(TERMINAL_STATES)
    assert GigState.CONFIRMED not in ACTIVE_STATES and GigState.DISPUTED in ACTIVE_STATES
    assert BOOKED_STATES <= ACTIVE_STATES
    for state in TERMINAL_STATES:
        assert all(allowed_actions(state, actor) == [] for actor in Actor)


def _reachable(start):
    seen, queue = {start}, deque([start])
    while queue:
        state = queue.popleft()
        for row in TRANSITIONS:
            if row.source == state and row.target not in seen:
                seen.add(row.target)
                queue.append(row.target)
    return seen


@pytest.mark.parametrize("state", sorted(set(GigState) - TERMINAL_STATES))
def test_every_live_state_can_reach_an_end(state):
    assert _reachable(state) & TERMINAL_STATES


def test_every_state_is_reachable_from_requested():
    assert _reachable(GigState.REQUESTED) == set(GigState)


def test_edit_is_only_before_acceptance_and_keeps_the_state():
    editable = {state for state in GigState if GigAction.EDIT in allowed_actions(state, Actor.CLIENT)}
    assert editable == {GigState.REQUESTED, GigState.OFFERED}
    assert all(next_state(state, GigAction.EDIT, Actor.CLIENT) == state for state in editable)


STARTS = datetime(2024, 5, 10, 9, 0)
DAY = timedelta(hours=24)


@pytest.mark.parametrize(
    ("cancelled_at", "late"),
    [
        (STARTS - DAY - timedelta(minutes=1), False),
        (STARTS - DAY, False),
        (STARTS - DAY + timedelta(seconds=1), True),
        (STARTS, True),
        (STARTS + timedelta(hours=2), True),
    ],
)
def test_cancellation_is_late_inside_the_window_or_after_start(cancelled_at, late):
    assert is_cancellation_late(STARTS, cancelled_at, DAY) is late


def test_zero_window_is_late_only_from_the_start_on():
    assert not is_cancellation_late(STARTS, STARTS - timedelta(seconds=1), timedelta(0))
    assert is_cancellation_late(STARTS, STARTS + timedelta(seconds=1), timedelta(0))
    with pytest.raises(ValueError):
        is_cancellation_late(STARTS, STARTS, -DAY)


class GigLifecycle(RuleBasedStateMachine):
    """Random walks through the lifecycle: next_state succeeds exactly for the offered actions."""

    def __init__(self):
        super().__init__()
        self.state = GigState.REQUESTED

    @rule(action=st.sampled_from(GigAction), actor=st.sampled_from(Actor))
    def act(self, action, actor):
        offered = action in allowed_actions(self.state, actor)
        try:
            self.state = next_state(self.state, action, actor)
        except IllegalTransition:
            assert not offered
        else:
            assert offered

    @invariant()
    def terminal_means_stuck(self):
        stuck = all(allowed_actions(self.state, actor) == [] for actor in Actor)
        assert stuck == (self.state in TERMINAL_STATES)


GigLifecycle.TestCase.settings = settings(max_examples=200, stateful_step_count=20, deadline=None)
test_gig_lifecycle_random_walks = GigLifecycle.TestCase
