"""The demo year's books tie out: the income statement adds up to the cent and its fee lines equal the fees of
the underlying confirmed gigs, member and non-member, as the billing rules price them."""

from datetime import date

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Job
from marketplace.services import billing, demo, fees, ledger, reports
from marketplace.services.worker_stats import local_today


@pytest.mark.slow
def test_demo_year_income_statement_ties_out(app):
    demo.seed()
    year = local_today().year - 1
    start, end = date(year, 1, 1), date(year, 12, 31)
    statement = reports.income_statement(start, end)

    expenses = sum(line.cents for line in statement.expenses)
    assert statement.net_margin_cents == (statement.member_fees_cents + statement.nonmember_fees_cents
                                          + statement.other_income_cents - expenses)
    assert statement.member_fees_cents > 0 and expenses > 0 and statement.other_income_cents > 0

    member_fees = nonmember_fees = 0
    for job in db.session.scalars(select(Job).where(Job.status.in_(("confirmed", "reviewed")))):
        if not start <= fees.local_date(job.confirmed_at) <= end:
            continue
        fee = billing.price_for_job(job).fee_cents
        if job.worker_was_member:
            member_fees += fee
        else:
            nonmember_fees += fee
    assert (statement.member_fees_cents, statement.nonmember_fees_cents) == (member_fees, nonmember_fees)
    assert ledger.verify() == []
