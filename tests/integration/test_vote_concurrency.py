"""Voting under concurrency (real threads on the test's file database or PostgreSQL): a member who votes
twice at the same moment has one ballot counted, and members voting at once lose no ballot."""

from __future__ import annotations

import threading

import pytest
from governance_support import OPENED, after, during, members
from sqlalchemy import func, select

from marketplace.errors import Conflict
from marketplace.extensions import db as _db
from marketplace.models import Ballot, Participation
from marketplace.services import governance, governance_ballots


def run_together(app, count: int, work) -> tuple[list, list]:
    """Run ``work(i)`` in ``count`` threads released at once, each in its own app context."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, [None] * count

    def runner(index: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results[index] = work(index)
            except Exception as exc:  # noqa: BLE001 - inspected by the tests
                errors[index] = exc
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def _ballots(proposal_id: int) -> int:
    return _db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.proposal_id == proposal_id))


@pytest.mark.parametrize("secret", [True, False])
def test_a_double_vote_at_the_same_moment_counts_once(app, db, make_user, secret):
    voters = members(make_user, 3)
    if secret:
        proposal = governance.table_proposal(voters[0].id, "election", "Elect a treasurer", "", {
            "office": "treasurer", "seats": 1, "candidate_ids": [voters[1].id, voters[2].id]}, now=OPENED)
        choices = [str(voters[1].id), str(voters[2].id)]
    else:
        proposal = governance.table_proposal(voters[0].id, "general", "Buy a van", "", now=OPENED)
        choices = ["for", "against"]
    pid, voter, moment = proposal.id, voters[0].id, during(proposal)
    results, errors = run_together(app, 6, lambda i: governance_ballots.cast_vote(pid, voter, choices[i % 2],
                                                                                  now=moment))
    successes = [r for r in results if r is not None]
    if secret:
        assert len(successes) == 1 and all(isinstance(e, Conflict) for e in errors if e is not None)
        assert _ballots(pid) == 1
    else:
        assert errors == [None] * 6 and sum(not r["changed"] for r in successes) == 1
    counts, voted = governance.tally(governance.get_proposal(pid))
    assert voted == 1 and sum(counts.values()) == 1


def test_members_voting_at_once_lose_no_secret_ballot(app, db, make_user):
    voters = members(make_user, 8)
    proposal = governance.table_proposal(voters[0].id, "election", "Elect a treasurer", "", {
        "office": "treasurer", "seats": 1, "candidate_ids": [voters[0].id, voters[1].id]}, now=OPENED)
    pid, moment = proposal.id, during(proposal)
    ids = [v.id for v in voters]
    choice = {vid: str(voters[n % 2].id) for n, vid in enumerate(ids)}
    results, errors = run_together(app, 8, lambda i: governance_ballots.cast_vote(pid, ids[i], choice[ids[i]],
                                                                                  now=moment))
    assert errors == [None] * 8
    assert _ballots(pid) == 8
    voted = db.session.scalar(select(func.count()).select_from(Participation).where(
        Participation.proposal_id == pid, Participation.voted.is_(True)))
    assert voted == 8
    governance.close_proposal(pid, after(proposal))
    counts, _ = governance.tally(governance.get_proposal(pid))
    assert counts == {str(voters[0].id): 4, str(voters[1].id): 4, "abstain": 0}


def test_two_closers_at_once_close_and_apply_once(app, db, make_user):
    voters = members(make_user, 2)
    proposal = governance.table_proposal(voters[0].id, "general", "Adopt a code of conduct", "", now=OPENED)
    for voter in voters:
        governance_ballots.cast_vote(proposal.id, voter.id, "for", now=during(proposal))
    moment = after(proposal)
    results, errors = run_together(app, 4, lambda i: governance.close_due_proposals(moment))
    assert errors == [None] * 4
    assert sorted(len(r["closed"]) for r in results) == [0, 0, 0, 1]
    db.session.expire_all()
    assert governance.get_proposal(proposal.id).status == "passed"
