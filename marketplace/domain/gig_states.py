"""The gig lifecycle as data: states, actions, who may take them, and where they lead.

A gig is requested by a client, offered to workers, accepted by one, worked, completed with its
hours, confirmed (by the client, or by the system when the auto-confirm timer runs out), and finally
reviewed when both reviews are published. Services apply a transition with a conditional
``UPDATE ... WHERE state = :expected`` and write an audit row; this module only decides whether the
transition is allowed and where it goes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class GigState(StrEnum):
    """Where a gig is in its life; the values are what the database stores."""

    REQUESTED = "requested"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    REVIEWED = "reviewed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    DISPUTED = "disputed"


class Actor(StrEnum):
    """Who takes an action: the gig's client, its worker, a timer or job of the system, or an admin."""

    CLIENT = "client"
    WORKER = "worker"
    SYSTEM = "system"
    ADMIN = "admin"


class GigAction(StrEnum):
    """Something that can be done to a gig."""

    OFFER = "offer"
    INVITE = "invite"
    ACCEPT = "accept"
    EXPIRE_OFFERS = "expire_offers"
    WITHDRAW = "withdraw"
    START = "start"
    COMPLETE = "complete"
    CONFIRM = "confirm"
    DISPUTE = "dispute"
    RESOLVE = "resolve"
    REVIEW = "review"
    CANCEL = "cancel"
    NO_SHOW = "no_show"
    EDIT = "edit"


@dataclass(frozen=True)
class Transition:
    """One row of the table: ``action`` by one of ``actors`` moves a gig from ``source`` to ``target``."""

    source: GigState
    action: GigAction
    target: GigState
    actors: frozenset[Actor]


def _row(source: GigState, action: GigAction, target: GigState, *actors: Actor) -> Transition:
    return Transition(source, action, target, frozenset(actors))


TRANSITIONS: tuple[Transition, ...] = (
    _row(GigState.REQUESTED, GigAction.OFFER, GigState.OFFERED, Actor.SYSTEM),
    _row(GigState.REQUESTED, GigAction.INVITE, GigState.OFFERED, Actor.CLIENT),
    _row(GigState.OFFERED, GigAction.ACCEPT, GigState.ACCEPTED, Actor.WORKER),
    # No worker took it in time: back to requested so the next round of offers can go out.
    _row(GigState.OFFERED, GigAction.EXPIRE_OFFERS, GigState.REQUESTED, Actor.SYSTEM),
    # Declining carries no penalty, even after accepting: the job simply goes back to offering.
    _row(GigState.ACCEPTED, GigAction.WITHDRAW, GigState.OFFERED, Actor.WORKER),
    _row(GigState.ACCEPTED, GigAction.START, GigState.IN_PROGRESS, Actor.WORKER),
    _row(GigState.IN_PROGRESS, GigAction.COMPLETE, GigState.COMPLETED, Actor.WORKER),
    # The system confirms when the client stays silent past the auto-confirm timer (48 h).
    _row(GigState.COMPLETED, GigAction.CONFIRM, GigState.CONFIRMED, Actor.CLIENT, Actor.SYSTEM),
    _row(GigState.COMPLETED, GigAction.DISPUTE, GigState.DISPUTED, Actor.CLIENT),
    _row(GigState.DISPUTED, GigAction.RESOLVE, GigState.CONFIRMED, Actor.ADMIN),
    _row(GigState.CONFIRMED, GigAction.REVIEW, GigState.REVIEWED, Actor.SYSTEM),
    _row(GigState.REQUESTED, GigAction.CANCEL, GigState.CANCELLED, Actor.CLIENT, Actor.ADMIN),
    _row(GigState.OFFERED, GigAction.CANCEL, GigState.CANCELLED, Actor.CLIENT, Actor.ADMIN),
    _row(GigState.ACCEPTED, GigAction.CANCEL, GigState.CANCELLED, Actor.CLIENT, Actor.ADMIN),
    _row(GigState.ACCEPTED, GigAction.NO_SHOW, GigState.NO_SHOW, Actor.CLIENT, Actor.ADMIN),
    # Once a worker has accepted, the terms they accepted must not change under them.
    _row(GigState.REQUESTED, GigAction.EDIT, GigState.REQUESTED, Actor.CLIENT),
    _row(GigState.OFFERED, GigAction.EDIT, GigState.OFFERED, Actor.CLIENT),
)

_BY_KEY: Mapping[tuple[GigState, GigAction], Transition] = {(t.source, t.action): t for t in TRANSITIONS}

TERMINAL_STATES: frozenset[GigState] = frozenset(GigState) - {t.source for t in TRANSITIONS}
"""States nothing can leave: reviewed, cancelled, no-show."""

ACTIVE_STATES: frozenset[GigState] = frozenset(GigState) - TERMINAL_STATES - {GigState.CONFIRMED}
"""States where the gig still waits on a person (offering, working, confirming or a dispute).

A confirmed gig is settled for client and worker; only the publication of reviews remains.
"""

BOOKED_STATES: frozenset[GigState] = frozenset({GigState.ACCEPTED, GigState.IN_PROGRESS})
"""States in which the gig holds its worker's time, so matching treats them as busy."""

_STATE_WORDS = {
    GigState.REQUESTED: "requested",
    GigState.OFFERED: "offered",
    GigState.ACCEPTED: "accepted",
    GigState.IN_PROGRESS: "in progress",
    GigState.COMPLETED: "completed",
    GigState.CONFIRMED: "confirmed",
    GigState.REVIEWED: "reviewed",
    GigState.CANCELLED: "cancelled",
    GigState.NO_SHOW: "marked as a no-show",
    GigState.DISPUTED: "disputed",
}

# (what cannot happen to a gig in a given state, what only some actors can do)
_ACTION_WORDS = {
    GigAction.OFFER: ("be offered to workers", "offer a gig to workers"),
    GigAction.INVITE: ("be offered to an invited worker", "invite a worker to a gig"),
    GigAction.ACCEPT: ("be accepted", "accept a gig"),
    GigAction.EXPIRE_OFFERS: ("have its offers expire", "expire a gig's offers"),
    GigAction.WITHDRAW: ("have its worker withdraw", "withdraw from a gig"),
    GigAction.START: ("be started", "start a gig"),
    GigAction.COMPLETE: ("be completed", "complete a gig"),
    GigAction.CONFIRM: ("be confirmed", "confirm a gig"),
    GigAction.DISPUTE: ("be disputed", "dispute a gig"),
    GigAction.RESOLVE: ("have a dispute resolved", "resolve a dispute"),
    GigAction.REVIEW: ("have its reviews published", "publish a gig's reviews"),
    GigAction.CANCEL: ("be cancelled", "cancel a gig"),
    GigAction.NO_SHOW: ("be marked as a no-show", "report a no-show"),
    GigAction.EDIT: ("be edited", "edit a gig"),
}

_ACTOR_WORDS = {
    Actor.CLIENT: "the client",
    Actor.WORKER: "the worker",
    Actor.SYSTEM: "the system",
    Actor.ADMIN: "an admin",
}


class IllegalTransition(Exception):
    """An action the gig's state or the actor's role does not allow; ``str()`` is a message for people."""

    def __init__(self, state: GigState, action: GigAction, actor: Actor, message: str) -> None:
        super().__init__(message)
        self.state = state
        self.action = action
        self.actor = actor
        self.message = message


def _actor_list(actors: frozenset[Actor]) -> str:
    names = [_ACTOR_WORDS[actor] for actor in Actor if actor in actors]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def next_state(state: GigState, action: GigAction, actor: Actor) -> GigState:
    """The state a gig moves to when ``actor`` takes ``action`` in ``state``, per ``TRANSITIONS``.

    Raises ``IllegalTransition`` when the table has no row for the state and action ("A gig that is
    completed cannot be started."), or when the row does not list the actor ("Only the worker can
    start a gig."). The state is checked first: it is the more useful message.
    """
    state, action, actor = GigState(state), GigAction(action), Actor(actor)
    row = _BY_KEY.get((state, action))
    if row is None:
        message = f"A gig that is {_STATE_WORDS[state]} cannot {_ACTION_WORDS[action][0]}."
        raise IllegalTransition(state, action, actor, message)
    if actor not in row.actors:
        message = f"Only {_actor_list(row.actors)} can {_ACTION_WORDS[action][1]}."
        raise IllegalTransition(state, action, actor, message)
    return row.target


def allowed_actions(state: GigState, actor: Actor) -> list[GigAction]:
    """The actions ``actor`` may take on a gig in ``state``, in declaration order (for UI buttons)."""
    state, actor = GigState(state), Actor(actor)
    return [action for action in GigAction if actor in getattr(_BY_KEY.get((state, action)), "actors", ())]


def is_cancellation_late(starts_at: datetime, cancelled_at: datetime, window: timedelta) -> bool:
    """True when a cancellation falls inside ``window`` before the start, or after the start.

    Cancelling exactly ``window`` before the start is still on time; one moment later is late.
    """
    if window < timedelta(0):
        raise ValueError(f"cancellation window {window} cannot be negative")
    return cancelled_at > starts_at - window
