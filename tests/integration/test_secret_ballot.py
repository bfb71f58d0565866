"""Secret ballots: nothing stored links a voter to a choice, yet a voter can change their vote until the close.

The strongest check: two identical secret elections in which the same members vote in the same order with
their choices swapped leave *the same records* in every table of the database (once the proposal's own ids,
timestamps and fresh random values are normalised). If anything stored tied a voter to a choice, the two
would differ. Separately, the physical order of ballot rows (SQLite rowid, PostgreSQL ctid/xmin) carries no
order of voting.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from governance_support import OPENED, after, during, members
from sqlalchemy import DateTime, select, text

from marketplace.errors import Conflict, ValidationFailed
from marketplace.extensions import db as _db
from marketplace.models import Ballot, BallotKey, Participation, ProposalOption
from marketplace.models.base import UTCDateTime
from marketplace.services import governance, governance_ballots, governance_views

RANDOM_COLUMNS = {("ballots", "id"), ("ballots", "token_mac"), ("ballot_keys", "secret")}


def election(proposer, candidates, title="Elect the treasurer"):
    return governance.table_proposal(proposer.id, "election", title, "", {
        "office": "treasurer", "seats": 1, "candidate_ids": [c.id for c in candidates]}, now=OPENED)


def cast(proposal, voter, choice, minutes=5, **kw):
    return governance_ballots.cast_vote(proposal.id, voter.id, str(choice), now=during(proposal, minutes), **kw)


def _option_positions() -> dict[int, int]:
    return dict(_db.session.execute(select(ProposalOption.id, ProposalOption.position)).all())


def _normalised_rows(proposal_id: int) -> Counter:
    """Every row in the database that belongs to ``proposal_id``, with its ids and times normalised."""
    positions = _option_positions()
    marker = re.compile(rf"/proposals/{proposal_id}\b")
    found = Counter()
    for table in _db.metadata.sorted_tables:
        for row in _db.session.execute(table.select()).mappings():
            mine, values = False, []
            for column in table.columns:
                value = row[column.key]
                refs = {fk.column.table.name for fk in column.foreign_keys}
                if (table.name, column.key) in RANDOM_COLUMNS or isinstance(column.type, (DateTime, UTCDateTime)):
                    value = "<varies>" if value is not None else None
                elif "proposals" in refs or (table.name == "proposals" and column.key == "id"):
                    mine, value = mine or value == proposal_id, "<P>" if value is not None else None
                elif "proposal_options" in refs or (table.name == "proposal_options" and column.key == "id"):
                    value = positions.get(value)
                elif table.name == "audit_events" and column.key == "subject_id" and row["subject_type"] == "Proposal":
                    mine, value = mine or value == proposal_id, "<P>"
                elif column.primary_key and isinstance(value, int) and len(table.primary_key.columns) == 1:
                    value = "<serial>"  # the order of audit rows, notices and mails (who voted when is public)
                elif isinstance(value, str) and marker.search(value):
                    mine, value = True, marker.sub("/proposals/<P>", value)
                values.append((column.key, value))
            if mine:
                found[(table.name, tuple(values))] += 1
    return found


def test_swapped_choices_leave_identical_records(app, db, make_user):
    voters = members(make_user, 4)
    first, second = election(voters[0], voters[2:]), election(voters[0], voters[2:])
    x, y = voters[2].id, voters[3].id
    for proposal, choices in ((first, (x, y, "abstain")), (second, (y, x, "abstain"))):
        for minutes, (voter, choice) in enumerate(zip(voters, choices, strict=False), start=1):
            cast(proposal, voter, choice, minutes)
    assert _normalised_rows(first.id) == _normalised_rows(second.id)
    for proposal in (first, second):
        governance.close_proposal(proposal.id, after(proposal))
    assert _normalised_rows(first.id) == _normalised_rows(second.id)
    assert governance.tally(governance.get_proposal(first.id))[0] == {str(x): 1, str(y): 1, "abstain": 1}


def test_the_check_above_would_see_a_stored_link(app, db, make_user):
    """Guard against a check that can never fail: an open ballot's choices *are* linked, and detected."""
    voters = members(make_user, 3)
    first = governance.table_proposal(voters[0].id, "general", "Open question", "", now=OPENED)
    second = governance.table_proposal(voters[0].id, "general", "Open question", "", now=OPENED)
    cast(first, voters[0], "for"), cast(first, voters[1], "against")
    cast(second, voters[0], "against"), cast(second, voters[1], "for")
    assert _normalised_rows(first.id) != _normalised_rows(second.id)


def test_ballots_carry_no_voter_time_or_sequence(app, db):
    columns = {c.key: c for c in Ballot.__table__.columns}
    assert set(columns) == {"id", "proposal_id", "option_id", "token_mac"}
    assert not any(fk.column.table.name == "users" for c in columns.values() for fk in c.foreign_keys)
    assert not any(isinstance(c.type, (DateTime, UTCDateTime)) for c in columns.values())
    with db.engine.connect() as conn:
        live = {c["name"] for c in db.inspect(conn).get_columns("ballots")}
    assert live == set(columns)


def _physical_order(proposal_id: int) -> list[str]:
    order = "ctid" if _db.engine.dialect.name == "postgresql" else "rowid"
    return list(_db.session.scalars(text(f"SELECT id FROM ballots WHERE proposal_id = :p ORDER BY {order}"),
                                    {"p": proposal_id}))


def test_ballot_rows_are_rewritten_in_random_order_at_every_cast(app, db, make_user):
    voters = members(make_user, 6)
    proposal = election(voters[0], voters[:2])
    seen: set[str] = set()
    for minutes, voter in enumerate(voters, start=1):
        cast(proposal, voter, voters[minutes % 2].id, minutes)
        ids = _physical_order(proposal.id)
        assert ids == sorted(ids)          # stored in the order of fresh random keys, not of voting
        assert not seen.intersection(ids)  # no ballot keeps an id from one cast to the next
        seen.update(ids)
    if db.engine.dialect.name == "postgresql":
        xmins = db.session.scalars(text("SELECT DISTINCT xmin::text FROM ballots WHERE proposal_id = :p"),
                                   {"p": proposal.id}).all()
        assert len(xmins) == 1             # every ballot written by the same (latest) transaction
    seats = db.session.scalars(select(Participation.open_option_id).where(Participation.proposal_id == proposal.id))
    assert set(seats) == {None}


def test_a_secret_vote_changes_with_the_receipt_code_only(app, db, make_user):
    voters = members(make_user, 3)
    proposal = election(voters[0], voters[1:])
    receipt = cast(proposal, voters[0], voters[1].id)["ballot_token"]
    assert receipt and len(receipt) >= 32
    with pytest.raises(Conflict, match="receipt code"):
        cast(proposal, voters[0], voters[2].id)
    with pytest.raises(ValidationFailed):
        cast(proposal, voters[0], voters[2].id, ballot_token="not-my-receipt")
    changed = cast(proposal, voters[0], voters[2].id, ballot_token=receipt)
    assert changed["changed"] and changed["ballot_token"] == receipt
    assert db.session.query(Ballot).count() == 1
    hidden = governance_views.proposal_detail(proposal.id, voters[1].id, now=during(proposal))
    assert not hidden["counts_visible"] and {o["votes"] for o in hidden["options"]} == {None}
    assert hidden["voted"] == 1 and hidden["roll"] == []
    governance.close_proposal(proposal.id, after(proposal))
    assert governance.tally(governance.get_proposal(proposal.id))[0][str(voters[2].id)] == 1


def test_closing_destroys_the_key_and_every_token_trace(app, db, make_user):
    voters = members(make_user, 3)
    proposal = election(voters[0], voters[1:])
    receipt = cast(proposal, voters[0], voters[1].id)["ballot_token"]
    key = db.session.get(BallotKey, proposal.id).secret
    mac = governance_ballots.token_mac(key, receipt)
    assert db.session.scalar(select(Ballot.token_mac)) == mac
    governance.close_proposal(proposal.id, after(proposal))
    assert db.session.get(BallotKey, proposal.id) is None
    assert db.session.scalars(select(Ballot.token_mac)).all() == [None]
    with pytest.raises(Conflict, match="closed"):
        cast(proposal, voters[0], voters[2].id, ballot_token=receipt, minutes=10)  # inside the window, but closed
