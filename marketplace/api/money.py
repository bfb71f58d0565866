"""Money in the API: a worker's earnings and payouts, and a confirmed gig's receipt."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from marketplace.api.spec import operation, schema
from marketplace.services import payouts, receipts

_CENTS = {"type": "integer", "description": "Amount in cents"}
_OPTIONAL_CENTS = {"type": ["integer", "null"], "description": "Amount in cents"}

EARNINGS = schema("Earnings", {
    "type": "object",
    "required": ["balance_cents", "payout_account", "payouts"],
    "properties": {
        "balance_cents": {**_CENTS, "description": "What the co-op owes the worker now"},
        "payout_account": {"type": ["string", "null"], "description": "Masked bank account, null when none"},
        "payouts": {"type": "array", "items": {
            "type": "object",
            "required": ["paid_on", "amount_cents", "reference", "account", "batch_id"],
            "properties": {"paid_on": {"type": "string", "format": "date"}, "amount_cents": _CENTS,
                           "reference": {"type": "string"}, "account": {"type": "string"},
                           "batch_id": {"type": "integer"}},
        }},
    },
})
RECEIPT = schema("Receipt", {
    "type": "object",
    "required": ["job_id", "minutes", "rate_cents", "subtotal_cents", "fee_cents", "fee_percent", "fee_mode",
                 "client_total_cents", "worker_earnings_cents", "member_gig", "payment", "fee_funds"],
    "properties": {
        "job_id": {"type": "integer"}, "title": {"type": "string"}, "category": {"type": "string"},
        "date": {"type": "string", "format": "date"}, "client_name": {"type": "string"},
        "worker_name": {"type": "string"}, "minutes": {"type": "integer"}, "hours_text": {"type": "string"},
        "rate_cents": _CENTS, "labour_cents": _CENTS, "materials_cents": _CENTS, "subtotal_cents": _CENTS,
        "fee_cents": _CENTS, "fee_percent": {"type": "string", "description": "Exact percent, e.g. \"5\""},
        "fee_mode": {"type": "string", "enum": ["deducted", "on_top"]}, "fee_mode_text": {"type": "string"},
        "fee_min_cents": _OPTIONAL_CENTS, "fee_max_cents": _OPTIONAL_CENTS,
        "client_total_cents": _CENTS, "worker_earnings_cents": _CENTS, "member_gig": {"type": "boolean"},
        "payment": {"type": "object", "properties": {"method": {"type": "string"}, "status": {"type": "string"},
                                                     "refunded_cents": _CENTS}},
        "fee_funds": {"type": "array", "items": {"type": "string"}},
        "spending": {"type": "array", "items": {"type": "object", "properties": {
            "category": {"type": "string"}, "percent": {"type": "integer"}}}},
    },
})


def register(bp: Blueprint) -> None:
    @operation(bp, "/me/earnings", "GET", summary="My earnings balance and payout history", tags=["money"],
               roles=("worker",), responses={200: ("Earnings", EARNINGS)})
    def my_earnings():
        worker_id = g.api_user.id
        account = payouts.payout_account(worker_id)
        history = [{**row, "paid_on": row["paid_on"].isoformat()} for row in payouts.payout_history(worker_id)]
        return jsonify({"balance_cents": payouts.earnings_balance(worker_id),
                        "payout_account": payouts.mask_account(account.account_number) if account else None,
                        "payouts": history})

    @operation(bp, "/jobs/<int:job_id>/receipt", "GET", summary="The receipt of a confirmed gig", tags=["money"],
               responses={200: ("Receipt", RECEIPT)})
    def job_receipt(job_id: int):
        return jsonify(receipts.receipt_for(job_id, g.api_user.id))
