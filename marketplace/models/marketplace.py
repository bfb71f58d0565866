"""The marketplace: worker profiles, job requests (which become gigs), offers, the gig audit trail,
reviews, messages and in-app notifications.

Coordinates are integer micro-degrees (``*_e6``): exact, compact and index-friendly. A job request and
the gig it becomes are one row; its ``status`` follows the state machine in ``domain/gig_states.py``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.domain.gig_states import GigState
from marketplace.extensions import db
from marketplace.models.base import UTCDateTime, utcnow
from marketplace.models.catalog import ServiceCategory
from marketplace.models.users import User

GIG_STATES = tuple(s.value for s in GigState)
OFFER_STATES = ("pending", "accepted", "declined", "withdrawn", "expired")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class WorkerProfile(db.Model):
    __tablename__ = "worker_profiles"
    __table_args__ = (
        CheckConstraint("radius_km >= 1 AND radius_km <= 100", name="radius_range"),
        CheckConstraint("lat_e6 BETWEEN -90000000 AND 90000000", name="lat_range"),
        CheckConstraint("lng_e6 BETWEEN -180000000 AND 180000000", name="lng_range"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    bio: Mapped[str] = mapped_column(Text, default="")
    neighbourhood: Mapped[str] = mapped_column(String(80), default="")
    lat_e6: Mapped[int] = mapped_column(Integer)
    lng_e6: Mapped[int] = mapped_column(Integer)
    radius_km: Mapped[int] = mapped_column(SmallInteger, default=10)
    # Declared weekly availability in minutes (sum of the windows), the fairness term's denominator.
    weekly_minutes: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    is_listed: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()
    services: Mapped[list[WorkerService]] = relationship(back_populates="profile", cascade="all, delete-orphan")
    windows: Mapped[list[AvailabilityWindow]] = relationship(cascade="all, delete-orphan",
                                                             order_by="(AvailabilityWindow.weekday, "
                                                                      "AvailabilityWindow.start_minute)")
    blocked_dates: Mapped[list[BlockedDate]] = relationship(cascade="all, delete-orphan",
                                                            order_by="BlockedDate.day")

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None


class WorkerService(db.Model):
    """A category a worker offers, at their hourly rate, with their service area as an indexed bounding box."""

    __tablename__ = "worker_services"
    __table_args__ = (
        UniqueConstraint("worker_id", "category_id"),
        CheckConstraint("rate_cents > 0", name="rate_positive"),
        # The matching query's index: category, then the service-area box containing the job's point.
        Index("ix_worker_services_area", "category_id", "min_lat_e6", "max_lat_e6", "min_lng_e6", "max_lng_e6",
              "rate_cents", "worker_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker_profiles.user_id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("service_categories.id"))
    rate_cents: Mapped[int] = mapped_column(BigInteger)
    min_lat_e6: Mapped[int] = mapped_column(Integer)
    max_lat_e6: Mapped[int] = mapped_column(Integer)
    min_lng_e6: Mapped[int] = mapped_column(Integer)
    max_lng_e6: Mapped[int] = mapped_column(Integer)

    profile: Mapped[WorkerProfile] = relationship(back_populates="services")
    category: Mapped[ServiceCategory] = relationship()


class AvailabilityWindow(db.Model):
    """A weekly time range, in the co-op's local time, in minutes from midnight (end may be 1440)."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute", name="span"),
        Index("ix_availability_windows_lookup", "worker_id", "weekday", "start_minute", "end_minute"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker_profiles.user_id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)


class BlockedDate(db.Model):
    __tablename__ = "blocked_dates"
    __table_args__ = (UniqueConstraint("worker_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker_profiles.user_id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)


class WorkerPeriodStats(db.Model):
    """Minutes offered to and worked by a worker in a period: the fairness term, kept by increments."""

    __tablename__ = "worker_period_stats"
    __table_args__ = (UniqueConstraint("worker_id", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker_profiles.user_id", ondelete="CASCADE"))
    period_start: Mapped[date] = mapped_column(Date)
    minutes_offered: Mapped[int] = mapped_column(Integer, default=0)
    minutes_worked: Mapped[int] = mapped_column(Integer, default=0)


class Job(db.Model):
    """A client's job request and, once a worker accepts it, the gig."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_in("status", GIG_STATES), name="status_known"),
        CheckConstraint("estimated_minutes BETWEEN 30 AND 720", name="estimated_range"),
        CheckConstraint("actual_minutes IS NULL OR actual_minutes BETWEEN 1 AND 1440", name="actual_range"),
        CheckConstraint("max_rate_cents IS NULL OR max_rate_cents > 0", name="max_rate_positive"),
        CheckConstraint("(worker_id IS NULL) = (status IN ('requested', 'offered', 'cancelled')) "
                        "OR status IN ('cancelled', 'no_show')", name="worker_matches_status"),
        Index("ix_jobs_worker_schedule", "worker_id", "starts_at", "ends_at"),
        Index("ix_jobs_open", "status", "category_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("service_categories.id"))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    neighbourhood: Mapped[str] = mapped_column(String(80), default="")
    # The street address is private: only the client, the assigned worker and admins see it.
    address: Mapped[str] = mapped_column(String(200), default="")
    lat_e6: Mapped[int] = mapped_column(Integer)
    lng_e6: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    estimated_minutes: Mapped[int] = mapped_column(Integer)
    max_rate_cents: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default=GigState.REQUESTED.value)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agreed_rate_cents: Mapped[int | None] = mapped_column(BigInteger)
    actual_minutes: Mapped[int | None] = mapped_column(Integer)
    offer_round: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Whether the worker was a member when the gig was accepted decides member vs non-member fee revenue.
    worker_was_member: Mapped[bool | None] = mapped_column()

    client: Mapped[User] = relationship(foreign_keys=[client_id])
    worker: Mapped[User | None] = relationship(foreign_keys=[worker_id])
    category: Mapped[ServiceCategory] = relationship()

    @property
    def state(self) -> GigState:
        return GigState(self.status)


class Offer(db.Model):
    """A time-boxed offer of a job to one worker. Declining carries no penalty."""

    __tablename__ = "offers"
    __table_args__ = (
        UniqueConstraint("job_id", "worker_id"),
        CheckConstraint(_in("status", OFFER_STATES), name="status_known"),
        Index("ix_offers_worker_status", "worker_id", "status", "expires_at"),
        Index("ix_offers_expiry", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    round: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    rate_cents: Mapped[int] = mapped_column(BigInteger)
    distance_m: Mapped[int] = mapped_column(Integer)
    score_ppm: Mapped[int] = mapped_column(Integer)  # match score in parts per million, for display and audits
    reasons: Mapped[str] = mapped_column(Text, default="")
    invited: Mapped[bool] = mapped_column(default=False)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    job: Mapped[Job] = relationship()
    worker: Mapped[User] = relationship()


class JobEvent(db.Model):
    """The audit trail of a gig: one row per state change (who, when, from, to, why). Only ever added."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_kind: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")


class Review(db.Model):
    """A review of one party of a gig by the other; hidden until both have written or 7 days pass."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("job_id", "author_id"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    author_role: Mapped[str] = mapped_column(String(10))  # "client" or "worker"
    stars: Mapped[int] = mapped_column(SmallInteger)
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    job: Mapped[Job] = relationship()


class Message(db.Model):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sender: Mapped[User] = relationship()


class Notification(db.Model):
    """An in-app notice (new offer, gig accepted, message…); the same events are also emailed."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_inbox", "user_id", "read_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CoopSetting(db.Model):
    """A co-op decision with the date it takes effect (fan-out of offers, deadlines, match weights…).

    The value in force on a day is the row with the latest ``effective_from`` on or before it; rows are
    only added, so the history of every decision stays visible.
    """

    __tablename__ = "coop_settings"
    __table_args__ = (UniqueConstraint("key", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), index=True)
    value: Mapped[str] = mapped_column(String(200))
    effective_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
