"""The governance API: proposals, ballots, results, discussion and my membership (issue 6 §7).

A secret ballot's first ``POST …/ballots`` answers with ``ballot_token``: the voter's receipt, kept by the
app (never sent to anyone else) and sent back to change the vote before the close.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, g, jsonify, request

from marketplace.api.spec import CONFLICT, operation, schema
from marketplace.domain import voting
from marketplace.errors import ValidationFailed
from marketplace.services import governance, governance_ballots, governance_views, member_register

TAGS = ["governance"]

_STR, _INT, _BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
_NSTR, _NINT = {"type": "string", "nullable": True}, {"type": "integer", "nullable": True}
_TIME = {"type": "string", "format": "date-time"}
OPTION = schema("ProposalOption", {"type": "object", "required": ["value", "label", "votes"], "properties": {
    "value": _STR, "label": _STR, "votes": {**_NINT, "description": "null while a secret ballot is open"}}})
SUMMARY_PROPS = {
    "id": _INT, "kind": {"type": "string", "enum": list(voting.KINDS)}, "kind_label": _STR, "title": _STR,
    "status": {"type": "string", "enum": ["open", "passed", "failed"]}, "secret": _BOOL, "opened_at": _TIME,
    "closes_at": _TIME, "closed_at": {**_TIME, "nullable": True}, "eligible": _INT, "voted": _INT,
    "turnout_percent": _STR, "result_note": _STR, "effect_status": _STR, "effect_detail": _STR, "description": _STR,
}
SUMMARY = schema("ProposalSummary", {"type": "object", "required": ["id", "kind", "title", "status"],
                                     "properties": SUMMARY_PROPS})
PROPOSAL_LIST = schema("ProposalList", {"type": "object", "required": ["proposals"],
                                        "properties": {"proposals": {"type": "array", "items": SUMMARY}}})
PROPOSAL = schema("Proposal", {"type": "object", "required": ["id", "kind", "title", "status", "options", "me"],
                               "properties": {
    **SUMMARY_PROPS, "body": _STR, "payload": {"type": "object"}, "proposer": _STR, "quorum_percent": _STR,
    "threshold_percent": _STR, "voting_open": _BOOL, "counts_visible": _BOOL,
    "options": {"type": "array", "items": OPTION},
    "roll": {"type": "array", "description": "each member's vote (open ballots only)", "items": {
        "type": "object", "properties": {"name": _STR, "voted": _BOOL, "choice": _NSTR}}},
    "me": {"type": "object", "properties": {"eligible": _BOOL, "voted": _BOOL, "choice": _NSTR}},
    "comments": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}},
}})
COMMENT = schema("Comment", {"type": "object", "required": ["author", "body", "created_at"],
                             "properties": {"author": _STR, "body": _STR, "created_at": _TIME}})
NEW_PROPOSAL = schema("NewProposal", {"type": "object", "required": ["kind", "title"], "properties": {
    "kind": {"type": "string", "enum": list(voting.KINDS)}, "title": {"type": "string", "maxLength": 160},
    "body": {"type": "string", "maxLength": 20000},
    "params": {"type": "object", "description": "by kind — fee_change: percent, effective_from, mode, min_cents, "
               "max_cents; policy: policy_id; dividend_run: period_id; admission: member_id; election: office, "
               "seats, candidate_ids"}}, "additionalProperties": False})
BALLOT_IN = schema("BallotRequest", {"type": "object", "required": ["choice"], "properties": {
    "choice": {"type": "string", "maxLength": 40},
    "ballot_token": {"type": "string", "maxLength": 64, "description": "to change a secret vote"}},
    "additionalProperties": False})
BALLOT_OUT = schema("BallotReceipt", {"type": "object", "required": ["choice", "changed", "ballot_token"],
                                      "properties": {"choice": _STR, "changed": _BOOL, "ballot_token": {
                                          **_NSTR, "description": "secret ballots: keep it to change the vote"}}})
RESULTS = schema("ProposalResults", {"type": "object", "additionalProperties": False, "required": [
    "id", "status", "eligible", "voted", "turnout_percent", "result_note", "counts_visible", "options",
    "effect_status"], "properties": {
    "id": _INT, "status": _STR, "eligible": _INT, "voted": _INT, "turnout_percent": _STR, "result_note": _STR,
    "counts_visible": _BOOL, "options": {"type": "array", "items": OPTION}, "effect_status": _STR}})
COMMENT_IN = schema("CommentRequest", {"type": "object", "required": ["body"], "properties": {
    "body": {"type": "string", "minLength": 1, "maxLength": 5000}}, "additionalProperties": False})
MEMBERSHIP = schema("Membership", {"type": "object", "additionalProperties": False, "required": [
    "status", "member_number", "joined_on", "left_on", "share_amount_cents", "share_paid_cents", "share_due_cents",
    "share_plan", "good_standing", "can_apply", "history"], "properties": {
    "status": _NSTR, "member_number": _NINT, "joined_on": {**_NSTR, "format": "date"}, "left_on": _NSTR,
    "share_amount_cents": _INT, "share_paid_cents": _INT, "share_due_cents": _INT, "share_plan": _STR,
    "good_standing": _BOOL, "can_apply": _BOOL,
    "history": {"type": "array", "items": {"type": "object", "properties": {
        "from_status": _STR, "to_status": _STR, "effective_on": {"type": "string", "format": "date"}}}}}})


def _plain(value):
    """Dates and times as ISO strings, recursively."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _results(detail: dict) -> dict:
    keys = ("id", "status", "eligible", "voted", "turnout_percent", "result_note", "counts_visible", "options",
            "effect_status")
    return {k: detail[k] for k in keys}


def _membership(user_id: int) -> dict:
    mine = member_register.my_membership(user_id)
    keys = ("status", "member_number", "joined_on", "left_on", "share_amount_cents", "share_paid_cents",
            "share_due_cents", "share_plan", "good_standing", "can_apply")
    data = {k: mine[k] for k in keys}
    data["history"] = [{"from_status": e.from_status, "to_status": e.to_status, "effective_on": e.effective_on}
                       for e in mine["history"]]
    return _plain(data)


def register(bp: Blueprint) -> None:
    status_query = [{"name": "status", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": ["open", "closed"]}}]

    @operation(bp, "/proposals", "GET", summary="Proposals: open votes and past decisions", tags=TAGS,
               query=status_query, responses={200: ("Proposals", PROPOSAL_LIST)})
    def list_proposals():
        status = request.args.get("status")
        if status not in (None, "open", "closed"):
            raise ValidationFailed({"status": "Use open or closed."})
        found = [] if status == "closed" else governance_views.open_proposals(g.api_user.id)
        if status != "open":
            found += governance_views.past_decisions(g.api_user.id, 100)
        return jsonify({"proposals": _plain(found)})

    @operation(bp, "/proposals", "POST", summary="Table a proposal (members in good standing)", tags=TAGS,
               request_schema=NEW_PROPOSAL, responses={201: ("Tabled and open for voting", PROPOSAL)})
    def table_proposal():
        body = g.json
        proposal = governance.table_proposal(g.api_user.id, body["kind"], body["title"], body.get("body", ""),
                                             body.get("params"))
        return jsonify(_plain(governance_views.proposal_detail(proposal.id, g.api_user.id))), 201

    @operation(bp, "/proposals/<int:proposal_id>", "GET", summary="One proposal with its counts and discussion",
               tags=TAGS, responses={200: ("The proposal", PROPOSAL)})
    def get_proposal(proposal_id: int):
        return jsonify(_plain(governance_views.proposal_detail(proposal_id, g.api_user.id)))

    @operation(bp, "/proposals/<int:proposal_id>/results", "GET", summary="Counts and turnout of a proposal",
               tags=TAGS, responses={200: ("Results (secret counts only after the close)", RESULTS)})
    def proposal_results(proposal_id: int):
        return jsonify(_plain(_results(governance_views.proposal_detail(proposal_id, g.api_user.id))))

    @operation(bp, "/proposals/<int:proposal_id>/ballots", "POST", summary="Cast or change my vote", tags=TAGS,
               request_schema=BALLOT_IN, responses={201: ("Vote recorded", BALLOT_OUT), 409: CONFLICT})
    def cast_ballot(proposal_id: int):
        result = governance_ballots.cast_vote(proposal_id, g.api_user.id, g.json["choice"],
                                              ballot_token=g.json.get("ballot_token"))
        return jsonify(result), 201

    @operation(bp, "/proposals/<int:proposal_id>/comments", "POST", summary="Add to the discussion", tags=TAGS,
               request_schema=COMMENT_IN, responses={201: ("Comment posted", COMMENT)})
    def add_comment(proposal_id: int):
        comment = governance.add_comment(proposal_id, g.api_user.id, g.json["body"])
        return jsonify(_plain({"author": g.api_user.name, "body": comment.body, "created_at": comment.created_at})), 201

    @operation(bp, "/me/membership", "GET", summary="My membership: status, share and history", tags=TAGS,
               responses={200: ("My membership", MEMBERSHIP)})
    def my_membership():
        return jsonify(_membership(g.api_user.id))
