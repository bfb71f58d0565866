"""JSON schemas of the marketplace API: request bodies are validated against them, and all of them appear in
/api/v1/openapi.json as components."""

from __future__ import annotations

from marketplace.api.spec import ID, schema
from marketplace.domain.geo import MAX_SERVICE_RADIUS_KM
from marketplace.services.profiles import MAX_RATE_CENTS

_STR = {"type": "string"}
_INT = {"type": "integer"}
_TIME = {"type": "string", "format": "date-time"}
_NULL_TIME = {"type": ["string", "null"], "format": "date-time"}
_NULL_INT = {"type": ["integer", "null"]}
_NULL_ID = {**ID, "type": ["integer", "null"]}
_RATE = {"type": "integer", "minimum": 1, "maximum": MAX_RATE_CENTS, "description": "Hourly rate in cents"}
_HOURS = {"type": ["number", "string"], "description": "Decimal hours (2.5) or H:MM (\"2:30\")."}


def _object(required: list[str], properties: dict, *, closed: bool = True) -> dict:
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": not closed}


CATEGORY = schema("Category", _object(["slug", "name", "rate_floor_cents"], {
    "slug": _STR, "name": _STR, "rate_floor_cents": _INT}))
CATEGORY_LIST = {"type": "array", "items": CATEGORY}

PROFILE_REQUEST = schema("ProfileRequest", _object(["categories", "radius_km", "availability"], {
    "categories": {"type": "array", "maxItems": 50, "items": _object(["slug", "rate_cents"], {
        "slug": {"type": "string", "maxLength": 40}, "rate_cents": _RATE})},
    "lat": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
    "lng": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
    "radius_km": {"type": "integer", "minimum": 1, "maximum": MAX_SERVICE_RADIUS_KM},
    "availability": {"type": "array", "maxItems": 100, "items": _object(["weekday", "start", "end"], {
        "weekday": {"type": "integer", "minimum": 0, "maximum": 6},
        "start": {"type": "string", "pattern": r"^\d{1,2}:\d{2}$"},
        "end": {"type": "string", "pattern": r"^\d{1,2}:\d{2}$"}})},
    "bio": {"type": "string", "maxLength": 5000},
    "neighbourhood": {"type": "string", "maxLength": 80},
    "blocked_dates": {"type": "array", "maxItems": 400, "items": {"type": "string", "format": "date"}},
}))
PROFILE = schema("Profile", _object(
    ["worker_id", "neighbourhood", "lat", "lng", "radius_km", "categories", "availability", "blocked_dates"], {
        "worker_id": _INT, "bio": _STR, "neighbourhood": _STR, "lat": {"type": "number"}, "lng": {"type": "number"},
        "radius_km": _INT, "weekly_minutes": _INT, "rating": {"type": ["number", "null"]}, "rating_count": _INT,
        "categories": {"type": "array", "items": _object(["slug", "rate_cents"], {
            "slug": _STR, "name": _STR, "rate_cents": _INT})},
        "availability": {"type": "array", "items": _object(["weekday", "start", "end"], {
            "weekday": _INT, "start": _STR, "end": _STR})},
        "blocked_dates": {"type": "array", "items": {"type": "string", "format": "date"}},
    }, closed=False))

JOB_REQUEST = schema("JobRequest", _object(["category", "title", "starts_at", "hours"], {
    "category": {"type": "string", "maxLength": 40},
    "title": {"type": "string", "maxLength": 120},
    "description": {"type": "string", "maxLength": 5000},
    "lat": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
    "lng": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
    "neighbourhood": {"type": "string", "maxLength": 80},
    "address": {"type": "string", "maxLength": 200},
    "starts_at": {"type": "string", "description": "ISO 8601 with a UTC offset, e.g. 2026-05-04T10:00:00-07:00"},
    "hours": _HOURS,
    "max_rate_cents": {**_RATE, "type": ["integer", "null"]},
    "invite_worker_id": _NULL_ID,
}))
JOB = schema("Job", _object(["id", "status", "category", "title", "starts_at", "hours", "client_id", "worker_id"], {
    "id": _INT, "status": _STR, "category": _STR, "title": _STR, "description": _STR, "neighbourhood": _STR,
    "address": {"type": "string", "description": "Only for the client, the gig's worker and admins."},
    "lat": {"type": "number", "description": "Rounded to about 1 km for those who may not see the address."},
    "lng": {"type": "number"}, "starts_at": _TIME, "ends_at": _TIME, "hours": {"type": "number"},
    "estimated_minutes": _INT, "max_rate_cents": _NULL_INT, "client_id": _INT, "worker_id": _NULL_INT,
    "agreed_rate_cents": _NULL_INT, "actual_minutes": _NULL_INT, "offer_round": _INT, "created_at": _TIME,
    "accepted_at": _NULL_TIME, "completed_at": _NULL_TIME, "confirmed_at": _NULL_TIME, "cancelled_at": _NULL_TIME,
    "allowed_actions": {"type": "array", "items": _STR},
}, closed=False))
MATCH_LIST = schema("MatchList", _object(["matches"], {"matches": {"type": "array", "items": _object(
    ["worker_id", "score", "distance_km", "rating", "hours_this_period"], {
        "worker_id": _INT, "name": _STR, "score": {"type": "number"}, "distance_km": {"type": "number"},
        "rating": {"type": ["number", "null"]}, "hours_this_period": {"type": "number"}, "rate_cents": _INT,
        "reasons": {"type": "array", "items": _STR}})}}))
OFFER = schema("Offer", _object(["job_id", "status", "expires_at"], {
    "job_id": _INT, "status": _STR, "round": _INT, "rate_cents": _INT, "distance_km": {"type": "number"},
    "reasons": {"type": "array", "items": _STR}, "invited": {"type": "boolean"}, "offered_at": _TIME,
    "expires_at": _TIME, "job": JOB}, closed=False))
OFFER_LIST = schema("OfferList", _object(["offers"], {"offers": {"type": "array", "items": OFFER}}))

COMPLETE_REQUEST = schema("CompleteRequest", _object(["hours"], {"hours": _HOURS}))
REASON_REQUIRED = schema("DisputeRequest", _object(["reason"], {"reason": {"type": "string", "maxLength": 2000}}))
REASON_OPTIONAL = schema("ReasonRequest", _object([], {"reason": {"type": "string", "maxLength": 2000}}))
INVITE_REQUEST = schema("InviteRequest", _object(["worker_id"], {"worker_id": ID}))
REVIEW_REQUEST = schema("ReviewRequest", _object(["stars", "body"], {
    "stars": {"type": "integer", "minimum": 1, "maximum": 5}, "body": {"type": "string", "maxLength": 2000}}))
REVIEW = schema("Review", _object(["id", "job_id", "author_id", "stars", "published_at"], {
    "id": _INT, "job_id": _INT, "author_id": _INT, "subject_id": _INT, "author_role": _STR, "stars": _INT,
    "body": _STR, "created_at": _TIME, "published_at": _NULL_TIME}))
MESSAGE_REQUEST = schema("MessageRequest", _object(["body"], {"body": {"type": "string", "maxLength": 4000}}))
MESSAGE = schema("Message", _object(["id", "job_id", "sender_id", "body", "created_at"], {
    "id": _INT, "job_id": _INT, "sender_id": _INT, "body": _STR, "created_at": _TIME}))
MESSAGE_LIST = schema("MessageList", _object(["messages"], {"messages": {"type": "array", "items": MESSAGE}}))
