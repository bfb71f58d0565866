"""Money pages: receipts (page and PDF), worker earnings with bank details, the client's test card, and the
treasurer's payouts with the bank CSV, fee rates and invoices."""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace.models import FeeRate, Invoice, PayoutAccount
from marketplace.services import billing, fees, payments, payouts
from money_support import make_job


@pytest.fixture
def browser(app, login):
    """``browser(user)``: a fresh test client signed in as ``user``."""
    return lambda user: login(user, test_client=app.test_client())


@pytest.fixture
def confirmed(make_user):
    customer, worker = make_user("client", name="Ada Client"), make_user("worker", "member", name="Rosa Diaz")
    payments.save_test_card(customer.id, "4242424242424242")
    job = make_job(customer, worker, rate_cents=3_000, actual_minutes=150)
    billing.on_gig_confirmed(job.id)
    return customer, worker, job


def post_form(web, path: str, data: dict, get_csrf, form_page: str | None = None):
    return web.post(path, data={**data, "csrf_token": get_csrf(web, form_page or path)})


def test_the_receipt_page_and_pdf(browser, confirmed, make_user):
    customer, worker, job = confirmed
    web = browser(customer)
    html = web.get(f"/gigs/{job.id}/receipt").get_data(as_text=True)
    for text in ("2 h 30 min", "$30.00", "$75.00", "$71.25", "$3.75", "Co-op fee (5%", "What the co-op fee funds",
                 "Card ending 4242", "Rosa Diaz"):
        assert text in html
    pdf = web.get(f"/gigs/{job.id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF") and b"$71.25" in pdf.data and b"$3.75" in pdf.data
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert browser(worker).get(f"/gigs/{job.id}/receipt").status_code == 200
    assert browser(make_user("treasurer")).get(f"/gigs/{job.id}/receipt.pdf").status_code == 200
    assert browser(make_user("client")).get(f"/gigs/{job.id}/receipt").status_code == 404  # as for the gig
    assert web.get("/gigs/424242/receipt").status_code == 404


def test_worker_sees_earnings_and_saves_bank_details(browser, confirmed, get_csrf, db):
    _, worker, _ = confirmed
    web = browser(worker)
    html = web.get("/work/earnings").get_data(as_text=True)
    assert "$71.25" in html and "No payouts yet." in html
    bad = post_form(web, "/work/earnings", {"holder_name": "Rosa Diaz", "account_number": "!!"}, get_csrf)
    assert bad.status_code == 200 and "5–40 letters" in bad.get_data(as_text=True)
    saved = post_form(web, "/work/earnings", {"holder_name": "Rosa Diaz",
                                              "account_number": "DE89 3704 0044 0532 0130 00"}, get_csrf)
    assert saved.status_code == 302
    assert db.session.get(PayoutAccount, worker.id).account_number == "DE89 3704 0044 0532 0130 00"
    html = web.get("/work/earnings").get_data(as_text=True)
    assert "•••• 3000" in html and "0532 0130" not in html


def test_client_saves_only_test_cards(browser, make_user, get_csrf):
    customer = make_user("client")
    web = browser(customer)
    refused = post_form(web, "/pay/card", {"card_number": "4111 1111 1111 1111"}, get_csrf)
    assert "Real cards are not accepted" in refused.get_data(as_text=True)
    assert payments.card_on_file(customer.id) is None
    assert post_form(web, "/pay/card", {"card_number": "4242 4242 4242 4242"}, get_csrf).status_code == 302
    assert "ending 4242" in web.get("/pay/card").get_data(as_text=True)
    assert post_form(web, "/pay/card/remove", {}, get_csrf, "/pay/card").status_code == 302
    assert payments.card_on_file(customer.id) is None
    assert browser(make_user("worker")).get("/pay/card").status_code == 403


def test_treasurer_creates_the_weekly_batch_and_downloads_the_bank_file(browser, confirmed, make_user, get_csrf):
    _, worker, _ = confirmed
    payouts.set_payout_account(worker.id, "Rosa Diaz", "DE89 3704 0044 0532 0130 00")
    admin = browser(make_user("admin"))
    assert admin.get("/treasury/payouts").status_code == 200
    assert post_form(admin, "/treasury/payouts", {}, get_csrf, "/treasury/payouts").status_code == 403
    web = browser(make_user("treasurer"))
    created = post_form(web, "/treasury/payouts", {}, get_csrf)
    assert created.status_code == 302
    batch = payouts.batches()[0]
    page = web.get(f"/treasury/payouts/{batch.id}").get_data(as_text=True)
    assert "Rosa Diaz" in page and "•••• 3000" in page and "$71.25" in page
    csv_resp = web.get(f"/treasury/payouts/{batch.id}.csv")
    assert csv_resp.mimetype == "text/csv"
    assert csv_resp.get_data(as_text=True).splitlines()[1].endswith("Rosa Diaz,DE89 3704 0044 0532 0130 00,71.25")
    assert browser(worker).get("/treasury/payouts").status_code == 403


def test_treasurer_records_a_fee_rate_and_admins_only_read(browser, make_user, get_csrf, db):
    web = browser(make_user("treasurer"))
    tomorrow = (fees.local_date() + timedelta(days=1)).isoformat()
    bad = post_form(web, "/treasury/fees", {"percent": "5.555", "effective_from": tomorrow, "mode": "on_top",
                                            "min_fee": "2", "max_fee": "1"}, get_csrf)
    text = bad.get_data(as_text=True)
    assert "at most two decimals" in text and "must not be below the minimum" in text
    good = post_form(web, "/treasury/fees", {"percent": "4.5", "effective_from": tomorrow, "mode": "on_top",
                                             "min_fee": "1.50", "max_fee": "", "note": "Vote 12"}, get_csrf)
    assert good.status_code == 302
    row = db.session.query(FeeRate).one()
    assert (row.percent_bp, row.min_cents, row.max_cents, row.mode) == (450, 150, None, "on_top")
    admin = browser(make_user("admin"))
    assert "4.5%" in admin.get("/treasury/fees").get_data(as_text=True)
    assert post_form(admin, "/treasury/fees", {"percent": "1", "effective_from": tomorrow, "mode": "on_top"},
                     get_csrf).status_code == 403


def test_admin_marks_a_bank_transfer_paid(browser, make_user, get_csrf, db):
    customer, worker = make_user("client", name="Bo Bank"), make_user("worker")
    job = make_job(customer, worker)
    invoice_id = billing.on_gig_confirmed(job.id)["invoice"]["id"]
    web = browser(make_user("admin"))
    assert "Bo Bank" in web.get("/treasury/invoices").get_data(as_text=True)
    paid = post_form(web, f"/treasury/invoices/{invoice_id}/paid", {}, get_csrf, "/treasury/invoices")
    assert paid.status_code == 302
    db.session.expire_all()
    assert db.session.get(Invoice, invoice_id).status == "paid"
    assert "No open invoices." in web.get("/treasury/invoices").get_data(as_text=True)
