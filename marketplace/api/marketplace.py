"""The marketplace API: categories, the worker's profile, jobs, matches, offers, the gig lifecycle, reviews and
messages. Handlers parse, call one service and present; errors come back as ``{"error": {...}}``."""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, g, jsonify
from sqlalchemy import select

from marketplace import limits
from marketplace.api import marketplace_schemas as s
from marketplace.api.spec import CONFLICT, operation
from marketplace.domain.gig_states import Actor, allowed_actions
from marketplace.errors import Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.models import Role, ServiceCategory, User
from marketplace.services import gigs, jobs, messages, offers, profiles, reviews
from marketplace.services.matching import find_matches
from marketplace.services.profile_input import format_minutes

TAGS = ["marketplace"]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _actor(job, user) -> Actor | None:
    if user.id == job.client_id:
        return Actor.CLIENT
    if job.worker_id is not None and user.id == job.worker_id:
        return Actor.WORKER
    return Actor.ADMIN if user.has_role(Role.ADMIN.value) else None


def job_json(job, viewer) -> dict:
    """A job as ``viewer`` may see it: the address and exact coordinates only for those allowed."""
    private = jobs.can_see_address(job, viewer)
    lat, lng = job.lat_e6 / 1e6, job.lng_e6 / 1e6
    actor = _actor(job, viewer)
    data = {
        "id": job.id, "status": job.status, "category": job.category.slug, "title": job.title,
        "description": job.description, "neighbourhood": job.neighbourhood,
        "lat": lat if private else round(lat, 2), "lng": lng if private else round(lng, 2),
        "starts_at": _iso(job.starts_at), "ends_at": _iso(job.ends_at), "hours": job.estimated_minutes / 60,
        "estimated_minutes": job.estimated_minutes, "max_rate_cents": job.max_rate_cents,
        "client_id": job.client_id, "worker_id": job.worker_id, "agreed_rate_cents": job.agreed_rate_cents,
        "actual_minutes": job.actual_minutes, "offer_round": job.offer_round, "created_at": _iso(job.created_at),
        "accepted_at": _iso(job.accepted_at), "completed_at": _iso(job.completed_at),
        "confirmed_at": _iso(job.confirmed_at), "cancelled_at": _iso(job.cancelled_at),
        "allowed_actions": [a.value for a in allowed_actions(job.state, actor)] if actor else [],
    }
    if private:
        data["address"] = job.address
    return data


def offer_json(offer, viewer) -> dict:
    return {"job_id": offer.job_id, "status": offer.status, "round": offer.round, "rate_cents": offer.rate_cents,
            "distance_km": round(offer.distance_m / 1000, 2), "reasons": [r for r in offer.reasons.split("; ") if r],
            "invited": offer.invited, "offered_at": _iso(offer.offered_at), "expires_at": _iso(offer.expires_at),
            "job": job_json(offer.job, viewer)}


def review_json(review) -> dict:
    return {"id": review.id, "job_id": review.job_id, "author_id": review.author_id, "subject_id": review.subject_id,
            "author_role": review.author_role, "stars": review.stars, "body": review.body,
            "created_at": _iso(review.created_at), "published_at": _iso(review.published_at)}


def message_json(message) -> dict:
    return {"id": message.id, "job_id": message.job_id, "sender_id": message.sender_id, "body": message.body,
            "created_at": _iso(message.created_at)}


def profile_json(profile) -> dict:
    return {
        "worker_id": profile.user_id, "bio": profile.bio, "neighbourhood": profile.neighbourhood,
        "lat": profile.lat_e6 / 1e6, "lng": profile.lng_e6 / 1e6, "radius_km": profile.radius_km,
        "weekly_minutes": profile.weekly_minutes, "rating": profile.rating, "rating_count": profile.rating_count,
        "categories": [{"slug": sv.category.slug, "name": sv.category.name, "rate_cents": sv.rate_cents}
                       for sv in profile.services],
        "availability": [{"weekday": w.weekday, "start": format_minutes(w.start_minute),
                          "end": format_minutes(w.end_minute)} for w in profile.windows],
        "blocked_dates": [b.day.isoformat() for b in profile.blocked_dates],
    }


def _starts_at(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed({"starts_at": "Use ISO 8601, e.g. 2026-05-04T10:00:00-07:00."}) from None
    if moment.tzinfo is None:
        raise ValidationFailed({"starts_at": "Include the UTC offset, e.g. 2026-05-04T10:00:00-07:00."})
    return moment


def _dates(values: list[str]) -> list[date]:
    try:
        return [date.fromisoformat(v) for v in values]
    except ValueError:
        raise ValidationFailed({"blocked_dates": "Use dates as YYYY-MM-DD."}) from None


def _ok(job):
    return jsonify(job_json(job, g.api_user))


def register(bp: Blueprint) -> None:
    """Add the marketplace operations to the API blueprint (and so to the OpenAPI document)."""
    _register_catalog(bp)
    _register_jobs(bp)
    _register_offers(bp)
    _register_lifecycle(bp)
    _register_conversation(bp)


def _register_catalog(bp: Blueprint) -> None:
    @operation(bp, "/categories", "GET", summary="The services the co-op offers, with their rate floors",
               tags=TAGS, auth=False, responses={200: ("Categories", s.CATEGORY_LIST)})
    def list_categories():
        rows = db.session.scalars(select(ServiceCategory).where(ServiceCategory.is_active.is_(True))
                                  .order_by(ServiceCategory.name))
        return jsonify([{"slug": c.slug, "name": c.name, "rate_floor_cents": c.rate_floor_cents} for c in rows])

    @operation(bp, "/me/profile", "PUT", summary="Create or replace the worker's profile", tags=TAGS,
               roles=(Role.WORKER.value,), request_schema=s.PROFILE_REQUEST, responses={200: ("Saved", s.PROFILE)})
    def put_profile():
        body = g.json
        try:
            profile = profiles.save_profile(
                g.api_user.id, bio=body.get("bio", ""), neighbourhood=body.get("neighbourhood", ""),
                lat=body.get("lat"), lng=body.get("lng"), radius_km=body["radius_km"],
                services=[(c["slug"], c["rate_cents"]) for c in body["categories"]],
                windows=[(w["weekday"], w["start"], w["end"]) for w in body["availability"]],
                blocked_dates=_dates(body.get("blocked_dates", [])))
        except ValidationFailed as exc:  # name the fields as this request does
            raise ValidationFailed({("categories" if k == "services" else k): v for k, v in exc.fields.items()}
                                   ) from None
        return jsonify(profile_json(profile))

    @operation(bp, "/me/offers", "GET", summary="The worker's open offers, soonest deadline first", tags=TAGS,
               roles=(Role.WORKER.value,), responses={200: ("Open offers", s.OFFER_LIST)})
    def my_offers():
        return jsonify({"offers": [offer_json(o, g.api_user) for o in offers.offers_for_worker(g.api_user.id)]})


def _register_jobs(bp: Blueprint) -> None:
    @operation(bp, "/jobs", "POST", summary="Post a job request (offered at once to the best matches)", tags=TAGS,
               roles=(Role.CLIENT.value,), request_schema=s.JOB_REQUEST,
               responses={201: ("Posted", s.JOB), 429: limits.TOO_MANY_REQUESTS})
    @limits.job_posting
    def post_job():
        body = g.json
        job = jobs.post_job(
            g.api_user.id, category=body["category"], title=body["title"], description=body.get("description", ""),
            neighbourhood=body.get("neighbourhood", ""), address=body.get("address", ""), lat=body.get("lat"),
            lng=body.get("lng"), starts_at=_starts_at(body["starts_at"]), hours=str(body["hours"]),
            max_rate_cents=body.get("max_rate_cents"), invite_worker_id=body.get("invite_worker_id"))
        return jsonify(job_json(job, g.api_user)), 201

    @operation(bp, "/jobs/<int:job_id>", "GET", summary="One job, as the caller may see it", tags=TAGS,
               responses={200: ("The job", s.JOB)})
    def get_job(job_id: int):
        return _ok(jobs.job_for_viewer(job_id, g.api_user))

    @operation(bp, "/jobs/<int:job_id>/matches", "GET", summary="The ranked workers for a job, with reasons",
               tags=TAGS, responses={200: ("Matches", s.MATCH_LIST)})
    def job_matches(job_id: int):
        job = jobs.job_for_viewer(job_id, g.api_user)
        if job.client_id != g.api_user.id and not g.api_user.has_role(Role.ADMIN.value):
            raise Forbidden("Only the job's client can see its matches.")
        found = find_matches(job)
        names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_([m.worker_id for m in found]))
                                        ).all()) if found else {}
        return jsonify({"matches": [
            {"worker_id": m.worker_id, "name": names.get(m.worker_id, ""), "score": round(m.score, 4),
             "distance_km": round(m.distance_km, 2), "rating": m.rating,
             "hours_this_period": round(m.hours_this_period, 2), "rate_cents": m.rate_cents, "reasons": list(m.reasons)}
            for m in found]})



def _register_offers(bp: Blueprint) -> None:
    @operation(bp, "/jobs/<int:job_id>/invite", "POST", summary="Invite one worker from the ranked list",
               tags=TAGS, request_schema=s.INVITE_REQUEST, responses={200: ("Invited", s.JOB), 409: CONFLICT})
    def invite(job_id: int):
        return _ok(offers.invite_worker(job_id, g.api_user.id, g.json["worker_id"]))

    @operation(bp, "/jobs/<int:job_id>/accept", "POST", summary="Accept an offer: the first worker gets the gig",
               tags=TAGS, roles=(Role.WORKER.value,), responses={200: ("The gig is yours", s.JOB),
                                                                409: ("Someone else got it", None)})
    def accept(job_id: int):
        return _ok(offers.accept_offer(job_id, g.api_user.id))

    @operation(bp, "/jobs/<int:job_id>/decline", "POST", summary="Decline an offer (no penalty)", tags=TAGS,
               roles=(Role.WORKER.value,), responses={200: ("Declined", s.OFFER), 409: CONFLICT})
    def decline(job_id: int):
        offer = offers.decline_offer(job_id, g.api_user.id)
        return jsonify(offer_json(offer, g.api_user))



def _register_lifecycle(bp: Blueprint) -> None:
    @operation(bp, "/jobs/<int:job_id>/cancel", "POST", summary="Cancel a job that has not started", tags=TAGS,
               request_schema=s.REASON_OPTIONAL, responses={200: ("Cancelled", s.JOB), 409: CONFLICT})
    def cancel(job_id: int):
        return _ok(jobs.cancel_job(job_id, g.api_user.id, g.json.get("reason", "")))

    @operation(bp, "/jobs/<int:job_id>/start", "POST", summary="The worker starts the gig", tags=TAGS,
               responses={200: ("Started", s.JOB), 409: CONFLICT})
    def start(job_id: int):
        return _ok(gigs.start_gig(job_id, g.api_user.id))

    @operation(bp, "/jobs/<int:job_id>/complete", "POST", summary="The worker completes the gig with the hours",
               tags=TAGS, request_schema=s.COMPLETE_REQUEST, responses={200: ("Completed", s.JOB), 409: CONFLICT})
    def complete(job_id: int):
        minutes = jobs.parse_hours(g.json["hours"], low=1, high=1440, step=1)
        return _ok(gigs.complete_gig(job_id, g.api_user.id, minutes))

    @operation(bp, "/jobs/<int:job_id>/confirm", "POST", summary="The client confirms the hours", tags=TAGS,
               responses={200: ("Confirmed", s.JOB), 409: CONFLICT})
    def confirm(job_id: int):
        return _ok(gigs.confirm_gig(job_id, g.api_user.id))

    @operation(bp, "/jobs/<int:job_id>/dispute", "POST", summary="The client disputes the completed gig",
               tags=TAGS, request_schema=s.REASON_REQUIRED, responses={200: ("Disputed", s.JOB), 409: CONFLICT})
    def dispute(job_id: int):
        return _ok(gigs.dispute_gig(job_id, g.api_user.id, g.json["reason"]))

    @operation(bp, "/jobs/<int:job_id>/withdraw", "POST", summary="The worker gives the gig back (no penalty)",
               tags=TAGS, request_schema=s.REASON_OPTIONAL, responses={200: ("Withdrawn", s.JOB), 409: CONFLICT})
    def withdraw(job_id: int):
        return _ok(gigs.withdraw_from_gig(job_id, g.api_user.id, g.json.get("reason", "")))


def _register_conversation(bp: Blueprint) -> None:
    @operation(bp, "/jobs/<int:job_id>/reviews", "POST", summary="Review the other side of a confirmed gig",
               tags=TAGS, request_schema=s.REVIEW_REQUEST, responses={201: ("Written (hidden until published)",
                                                                           s.REVIEW), 409: CONFLICT})
    def write_review(job_id: int):
        review = reviews.write_review(job_id, g.api_user.id, g.json["stars"], g.json["body"])
        return jsonify(review_json(review)), 201

    @operation(bp, "/jobs/<int:job_id>/messages", "POST", summary="Write to the other side of the gig", tags=TAGS,
               request_schema=s.MESSAGE_REQUEST, responses={201: ("Sent", s.MESSAGE), 409: CONFLICT})
    def send_message(job_id: int):
        return jsonify(message_json(messages.send_message(job_id, g.api_user.id, g.json["body"]))), 201

    @operation(bp, "/jobs/<int:job_id>/messages", "GET", summary="The gig's messages, oldest first", tags=TAGS,
               responses={200: ("Messages", s.MESSAGE_LIST)})
    def list_messages(job_id: int):
        return jsonify({"messages": [message_json(m) for m in messages.thread(job_id, g.api_user.id)]})
