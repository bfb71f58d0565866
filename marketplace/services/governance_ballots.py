"""Casting and changing votes: one member, one vote; secret ballots nobody can link to the voter (issue 6 §2–3).

Who may vote
    The electorate is fixed when a proposal opens: one ``participations`` row per member in good standing
    then. Anyone else (non-members, probationary workers, members admitted later) is refused. A vote
    counts only inside the window [opened_at, closes_at); a member may change it until the close.

One ballot per member, also under concurrency
    Every cast begins with a conditional ``UPDATE proposals … WHERE status = 'open' AND opened_at <= now
    AND closes_at > now``. It is the first write of the transaction, so it takes the proposal's row lock
    (PostgreSQL) or the database write lock (SQLite) before anything is read; casts on one proposal are
    therefore serialised, and the closing task's own conditional UPDATE cannot interleave with a cast. The
    first vote flips ``participations.voted`` from false to true (a second concurrent "first vote" of the
    same member finds it true and is refused), so each member has at most one ballot.

Open ballots
    The choice is stored on the member's participation row (``open_option_id``); the page shows everyone's
    vote and a running tally.

Secret ballots — what is stored, and why nothing links a voter to a choice
    ``participations`` says *who* voted (``voted`` flag, ``open_option_id`` always NULL). ``ballots`` says
    *how*: a row with a random UUID key, the proposal, the option and ``token_mac`` — no voter column, no
    timestamp, no serial id. On the first vote the server draws a random 192-bit *ballot token* and gives
    it to the voter only (the browser keeps it in its signed session cookie and shows it once as a receipt
    code; the API returns it). The database stores only ``HMAC-SHA256(proposal key, token)``; the
    proposal key lives in ``ballot_keys`` while the vote is open. To change the vote the voter presents the
    token; its HMAC finds their ballot and its option is changed. The server never learns which ballot a
    member owns except while handling that member's own request, and writes it nowhere.

    Ordering channels are closed too. A row's position or system columns could betray the order of
    inserts, and the order of ``participations`` changes is visible (and audited). So every cast —
    first vote or change — deletes *all* ballots of the proposal and re-inserts them in a fresh random
    order with fresh random UUIDs, in one transaction: afterwards every ballot of the proposal carries the
    same insert transaction id (PostgreSQL ``xmin``), their heap/rowid order is the order of new random keys,
    and no ballot id survives from one cast to the next. The cost is O(ballots) per cast, which is fine
    for a co-op's electorate (thousands).

    Secret tallies are not shown until the close (a running tally that moves by one just after a member
    votes would reveal their choice). When the vote closes the proposal key is deleted and every
    ``token_mac`` is set to NULL in a final rewrite: from then on not even a voter's own token (say, one a
    coercer demands) can be matched to a ballot. Audit and notification rows of secret votes name the voter
    but never the choice. What this design does not hide: a database superuser watching the live
    transaction log, or reading dead tuples before the table is vacuumed, during the vote.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from marketplace.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import Ballot, BallotKey, Membership, Participation, Proposal, ProposalOption
from marketplace.models.base import utcnow
from marketplace.services import audit


def token_mac(key_hex: str, token: str) -> str:
    """HMAC-SHA256 of a voter's ballot token under the proposal's key, hex."""
    return hmac.new(bytes.fromhex(key_hex), token.encode("utf-8"), hashlib.sha256).hexdigest()


def _claim(proposal_id: int, now: datetime) -> Proposal:
    """Take the proposal's write lock with a conditional UPDATE, or explain why voting is not possible."""
    locked = db.session.execute(
        update(Proposal).where(Proposal.id == proposal_id, Proposal.status == "open", Proposal.opened_at <= now,
                               Proposal.closes_at > now)
        .values(status=Proposal.status).execution_options(synchronize_session=False)).rowcount
    proposal = db.session.get(Proposal, proposal_id)
    if locked == 1:
        return proposal
    db.session.rollback()
    if proposal is None:
        raise NotFound(f"Proposal {proposal_id} does not exist.")
    if proposal.opened_at > now:
        raise Conflict("Voting on this proposal has not opened yet.")
    raise Conflict(f"Voting on this proposal closed at {proposal.closes_at:%Y-%m-%d %H:%M} UTC; "
                   "your vote was not counted.")


def _option(proposal: Proposal, choice: str) -> ProposalOption:
    for option in proposal.options:
        if option.value == str(choice):
            return option
    raise ValidationFailed({"choice": "Choose one of the options on the ballot."})


def rewrite_ballots(proposal_id: int, rows: list[tuple[int, str | None]]) -> None:
    """Replace all ballots of a proposal by ``rows`` (option id, token mac) in a random order with new ids."""
    db.session.execute(delete(Ballot).where(Ballot.proposal_id == proposal_id)
                       .execution_options(synchronize_session=False))
    fresh = [{"id": str(uuid.uuid4()), "proposal_id": proposal_id, "option_id": option_id, "token_mac": mac}
             for option_id, mac in rows]
    fresh.sort(key=lambda row: row["id"])  # random keys, inserted in key order: a random order
    if fresh:
        db.session.execute(insert(Ballot), fresh)


def _current_ballots(proposal_id: int) -> list[tuple[int, str | None]]:
    return [(o, m) for o, m in db.session.execute(
        select(Ballot.option_id, Ballot.token_mac).where(Ballot.proposal_id == proposal_id))]


def _secret_vote(proposal: Proposal, seat: Participation, option: ProposalOption, token: str | None) -> dict:
    key = db.session.get(BallotKey, proposal.id)
    ballots = _current_ballots(proposal.id)
    if not seat.voted:
        token = secrets.token_urlsafe(24)
        seat.voted = True
        ballots.append((option.id, token_mac(key.secret, token)))
        changed = False
    else:
        if not token:
            raise Conflict("You have already voted. To change a secret vote, give the receipt code you were "
                           "shown when you voted.", {"ballot_token": "Enter your receipt code."})
        mac = token_mac(key.secret, token.strip())
        if not any(m == mac for _, m in ballots):
            raise ValidationFailed({"ballot_token": "This receipt code does not match a ballot of this vote."})
        ballots = [(option.id if m == mac else o, m) for o, m in ballots]
        token, changed = token.strip(), True
    rewrite_ballots(proposal.id, ballots)
    return {"changed": changed, "ballot_token": token}


def cast_vote(proposal_id: int, voter_id: int, choice: str, *, ballot_token: str | None = None,
              now: datetime | None = None) -> dict:
    """Record or change a member's vote (see the module docstring for the rules). Commits.

    Returns ``{"changed": bool, "ballot_token": str | None, "choice": value}``; for a secret ballot the
    token is the voter's receipt, needed to change the vote later and stored nowhere in clear.
    """
    now = now or utcnow()
    proposal = _claim(proposal_id, now)
    seat = db.session.get(Participation, (proposal_id, voter_id))
    standing = db.session.get(Membership, voter_id)
    if seat is None or standing is None or standing.status != "member":
        db.session.rollback()
        raise Forbidden("Only members in good standing when this vote opened may vote on it"
                        + ("." if seat is None else ", and you are no longer a member."))
    try:
        option = _option(proposal, choice)
        result = _secret_vote(proposal, seat, option, ballot_token) if proposal.secret else None
    except AppError:
        db.session.rollback()
        raise
    if proposal.secret:
        detail = "secret ballot"
    else:
        result = {"changed": seat.voted, "ballot_token": None}
        seat.voted, seat.open_option_id = True, option.id
        detail = "open ballot"  # the audit trail records that a member voted, never how
    if not (proposal.secret and result["changed"]):
        audit.record("vote.changed" if result["changed"] else "vote.cast", actor_id=voter_id, subject=proposal,
                     detail=detail)
    db.session.commit()
    return {**result, "choice": option.value}


def has_voted(proposal_id: int, member_id: int) -> bool | None:
    """True/False for a member of the electorate, None for anyone else."""
    seat = db.session.get(Participation, (proposal_id, member_id))
    return None if seat is None else seat.voted


def open_choice(proposal_id: int, member_id: int) -> str | None:
    """A member's current choice on an open ballot (None for secret ballots and non-voters)."""
    return db.session.scalar(
        select(ProposalOption.value).join(Participation, Participation.open_option_id == ProposalOption.id)
        .where(Participation.proposal_id == proposal_id, Participation.member_id == member_id))
