"""The membership lifecycle: applying, admission, the share in the ledger, leaving, and the register."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from governance_support import add_member
from sqlalchemy import func, select

from marketplace.domain import ledger as chart
from marketplace.domain import voting
from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.models import AuditEvent, Membership, MembershipEvent, OfficerTerm, SharePayment
from marketplace.models.treasury import CapitalRedemption
from marketplace.services import fees, ledger, member_register, member_shares, membership, settings
from money_support import make_job


def relax_eligibility(db):
    if settings.get("membership_min_hours") == 2:
        return
    settings.set_value("membership_min_hours", "2", date(2020, 1, 1))
    settings.set_value("membership_min_months", "0", date(2020, 1, 1))
    db.session.commit()


def applicant(db, make_user, name="Ana Applicant"):
    relax_eligibility(db)
    worker = make_user("worker", name=name)
    make_job(make_user("client"), worker, actual_minutes=150, member=False)
    membership.apply(worker.id)
    return worker


def test_a_worker_applies_only_once_eligible(db, make_user):
    worker = make_user("worker")
    with pytest.raises(ValidationFailed, match="100 hours"):
        membership.apply(worker.id)
    with pytest.raises(Forbidden):
        membership.apply(make_user("client").id)
    check = membership.eligibility(worker.id)
    assert not check.hours_met and check.minutes_needed == 6000
    assert check.eligible_from == voting.add_months(fees.local_date(worker.created_at), 3)
    relax_eligibility(db)
    make_job(make_user("client"), worker, actual_minutes=119, member=False)
    with pytest.raises(ValidationFailed, match="1 of 2 hours"):
        membership.apply(worker.id)
    make_job(make_user("client"), worker, actual_minutes=1, member=False)
    assert membership.apply(worker.id).status == "applicant"
    with pytest.raises(Conflict):
        membership.apply(worker.id)


def test_the_board_admits_and_the_member_role_follows(db, make_user):
    admin = make_user("admin")
    worker = applicant(db, make_user)
    with pytest.raises(Forbidden):
        membership.admit(worker.id, make_user("treasurer").id)
    with pytest.raises(ValidationFailed):
        membership.admit(worker.id, admin.id, effective_on=fees.local_date() + timedelta(days=1))
    row = membership.admit(worker.id, admin.id, share_plan="instalments")
    assert (row.status, row.member_number, row.joined_on) == ("member", 1, fees.local_date())
    assert (row.share_amount_cents, row.share_paid_cents, row.instalment_cents) == (10000, 0, 2500)
    assert worker.has_role("member") and membership.in_good_standing(worker.id)
    statuses = [(e.from_status, e.to_status) for e in membership.history(worker.id)]
    assert statuses == [("probationary", "applicant"), ("applicant", "member")]
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "role.granted"))
    second = applicant(db, make_user, "Ben Second")
    assert membership.admit(second.id, admin.id).member_number == 2
    assert not membership.in_good_standing(second.id)  # a lump-sum share not yet paid


def test_declining_keeps_the_worker_probationary(db, make_user):
    admin = make_user("admin")
    worker = applicant(db, make_user)
    assert membership.decline(worker.id, admin.id, "Not yet").status == "probationary"
    assert not worker.has_role("member")


def test_share_payment_posts_share_capital_once(db, make_user):
    treasurer = make_user("treasurer")
    member = add_member(make_user, paid=False)
    today = fees.local_date()
    with pytest.raises(ValidationFailed) as err:
        member_shares.record_share_payment(member.id, 10001, today, treasurer.id, "BANK-1")
    assert "amount" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        member_shares.record_share_payment(member.id, 100, today, treasurer.id, "  ")
    assert "reference" in err.value.fields
    with pytest.raises(Forbidden):
        member_shares.record_share_payment(member.id, 100, today, member.id, "BANK-1")
    first = member_shares.record_share_payment(member.id, 4000, today, treasurer.id, "BANK-1")
    again = member_shares.record_share_payment(member.id, 4000, today, treasurer.id, "BANK-2")
    assert first.id != again.id
    assert ledger.balance(chart.MEMBER_SHARE_CAPITAL) == -8000 and ledger.balance(chart.BANK) == 8000
    assert db.session.get(Membership, member.id).share_due_cents == 2000
    member_shares.record_share_payment(member.id, 2000, today, treasurer.id, "BANK-3")
    assert membership.in_good_standing(member.id)
    with pytest.raises(ValidationFailed):
        member_shares.record_share_payment(member.id, 1, today, treasurer.id, "BANK-4")
    assert ledger.verify() == []


def test_the_same_bank_reference_records_nothing_new(db, make_user):
    treasurer = make_user("treasurer")
    member = add_member(make_user, paid=False)
    first = member_shares.record_share_payment(member.id, 500, fees.local_date(), treasurer.id, "TX 991")
    repeat = member_shares.record_share_payment(member.id, 500, fees.local_date(), treasurer.id, "TX 991")
    assert repeat.id == first.id and first.ledger_key == f"share:{member.id}:bank:TX-991"
    assert db.session.scalar(select(func.count()).select_from(SharePayment)) == 1
    assert db.session.get(Membership, member.id).share_paid_cents == 500


def test_instalments_come_out_of_earnings_once_a_week(db, make_user):
    member = add_member(make_user, paid=False, plan="instalments")
    payable = chart.worker_payable(member.id)
    ledger.post(chart.JournalEntrySpec("test:earnings", "earnings", fees.local_date(),
                                       (chart.Posting(chart.BANK, 1500), chart.Posting(payable, -1500))))
    db.session.commit()
    monday = fees.local_date() - timedelta(days=fees.local_date().weekday())
    assert member_shares.collect_instalments(monday) == 1
    assert member_shares.collect_instalments(monday + timedelta(days=2)) == 0  # same week
    assert ledger.balance(payable) == 0  # never more than the earnings balance
    assert db.session.get(Membership, member.id).share_paid_cents == 1500
    assert ledger.balance(chart.MEMBER_SHARE_CAPITAL) == -1500


def test_leaving_revokes_the_role_and_settles_the_capital_account(db, make_user):
    member = add_member(make_user, joined=date(2025, 1, 6))
    with pytest.raises(ValidationFailed):
        membership.depart(member.id, member.id, effective_on=fees.local_date() + timedelta(days=1))
    with pytest.raises(Forbidden):
        membership.depart(member.id, member.id, expel=True)
    row = membership.depart(member.id, member.id, effective_on=date(2026, 1, 31), reason="Moving away")
    assert (row.status, row.left_on) == ("left", date(2026, 1, 31))
    assert not member.has_role("member")
    assert db.session.scalar(select(CapitalRedemption).where(CapitalRedemption.member_id == member.id))
    event = db.session.scalar(select(MembershipEvent).where(MembershipEvent.user_id == member.id))
    assert (event.to_status, event.effective_on, event.note) == ("left", date(2026, 1, 31), "Moving away")


def test_expulsion_by_the_board_ends_offices(db, make_user):
    admin = make_user("admin")
    member = add_member(make_user, roles=("worker", "member", "treasurer"))
    proposal_id = _proposal_id(db, member)
    db.session.add(OfficerTerm(office="treasurer", member_id=member.id, proposal_id=proposal_id,
                               started_on=date(2025, 6, 1)))
    db.session.commit()
    membership.depart(member.id, admin.id, expel=True, reason="Breach of the bylaws")
    db.session.expire_all()
    assert membership.get(member.id).status == "expelled"
    assert not member.has_role("member") and not member.has_role("treasurer")
    assert db.session.scalar(select(OfficerTerm.ended_on)) == fees.local_date()


def _proposal_id(db, member) -> int:
    from marketplace.services import governance

    return governance.table_proposal(member.id, "general", "An old election record", "").id


def test_patronage_eligibility_follows_membership_dates(db, make_user):
    early = add_member(make_user, joined=date(2024, 1, 1))
    late = add_member(make_user, joined=date(2025, 7, 1))
    db.session.get(Membership, early.id).left_on = date(2024, 12, 31)
    db.session.commit()
    in_2025 = set(db.session.scalars(membership.members_between(date(2025, 1, 1), date(2025, 12, 31))))
    assert in_2025 == {late.id}
    in_2024 = set(db.session.scalars(membership.members_between(date(2024, 1, 1), date(2024, 12, 31))))
    assert in_2024 == {early.id}


def test_register_and_csv_export(db, make_user):
    admin = make_user("admin")
    first = add_member(make_user, name="Zoe First")
    add_member(make_user, name="Abe Second", paid=False)
    waiting = applicant(db, make_user, "Cy Applicant")
    with pytest.raises(Forbidden):
        member_register.register(actor_id=first.id)
    rows = member_register.register(actor_id=admin.id)
    assert [(r["member_number"], r["name"]) for r in rows] == [(1, "Zoe First"), (2, "Abe Second"),
                                                              (None, "Cy Applicant")]
    assert [r["name"] for r in member_register.register(search="abe", actor_id=admin.id)] == ["Abe Second"]
    assert [r["user_id"] for r in member_register.register(status="applicant", actor_id=admin.id)] == [waiting.id]
    parsed = list(csv.DictReader(io.StringIO(member_register.register_csv(admin.id))))
    assert parsed[0]["member_number"] == "1" and parsed[0]["share_paid"] == "100.00"
    assert parsed[1]["share_paid"] == "0.00" and parsed[1]["joined_on"] == "2025-01-06"
    assert parsed[2]["status"] == "applicant" and parsed[2]["status_history"].endswith("applicant")
