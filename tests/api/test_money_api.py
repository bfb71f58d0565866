"""Money in the API: a worker's earnings and payouts, a gig's receipt, and who may read them."""

from __future__ import annotations

from datetime import date

from marketplace.services import billing, payments, payouts
from money_support import make_job


def test_my_earnings_show_the_balance_and_the_payouts(client, make_user, api_token):
    customer, worker = make_user("client"), make_user("worker", "member")
    payments.save_test_card(customer.id, "4242424242424242")
    billing.on_gig_confirmed(make_job(customer, worker, rate_cents=3_000, actual_minutes=120).id)
    headers = api_token(worker)
    body = client.get("/api/v1/me/earnings", headers=headers).get_json()
    assert body == {"balance_cents": 5_700, "payout_account": None, "payouts": []}
    payouts.set_payout_account(worker.id, worker.name, "DE89 3704 0044 0532 0130 00")
    batch = payouts.create_payout_batch(date(2026, 3, 9), minimum_cents=0)
    body = client.get("/api/v1/me/earnings", headers=headers).get_json()
    assert body["balance_cents"] == 0 and body["payout_account"] == "•••• 3000"
    assert body["payouts"] == [{"paid_on": "2026-03-09", "amount_cents": 5_700, "account": "•••• 3000",
                                "reference": f"COOP-PAYOUT-{batch.id}-{worker.id}", "batch_id": batch.id}]
    assert client.get("/api/v1/me/earnings", headers=api_token(customer)).status_code == 403
    assert client.get("/api/v1/me/earnings").status_code == 401


def test_the_receipt_is_for_the_gig_parties_and_staff(client, make_user, api_token):
    customer, worker = make_user("client"), make_user("worker")
    job = make_job(customer, worker, rate_cents=2_000, actual_minutes=90, member=False)
    billing.on_gig_confirmed(job.id)
    resp = client.get(f"/api/v1/jobs/{job.id}/receipt", headers=api_token(customer))
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["minutes"], body["rate_cents"], body["client_total_cents"], body["fee_cents"],
            body["worker_earnings_cents"], body["member_gig"]) == (90, 2_000, 3_000, 150, 2_850, False)
    assert body["payment"]["method"].startswith("Bank transfer, invoice INV-")
    assert client.get(f"/api/v1/jobs/{job.id}/receipt", headers=api_token(make_user("admin"))).status_code == 200
    stranger = client.get(f"/api/v1/jobs/{job.id}/receipt", headers=api_token(make_user("client")))
    assert stranger.status_code == 404 and stranger.get_json()["error"]["code"] == "not_found"  # as for the gig
    assert client.get("/api/v1/jobs/999999/receipt", headers=api_token(customer)).status_code == 404


def test_a_gig_without_confirmation_has_no_receipt(client, make_user, api_token):
    customer, worker = make_user("client"), make_user("worker")
    job = make_job(customer, worker, status="completed")
    assert client.get(f"/api/v1/jobs/{job.id}/receipt", headers=api_token(customer)).status_code == 404


def test_the_openapi_document_describes_the_money_routes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/me/earnings"] and "get" in paths["/api/v1/jobs/{job_id}/receipt"]
