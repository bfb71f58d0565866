"""All models, imported here so Alembic and the app see the whole schema."""

from marketplace.models.catalog import ServiceCategory
from marketplace.models.marketplace import (
    AvailabilityWindow,
    BlockedDate,
    CoopSetting,
    Job,
    JobEvent,
    Message,
    Notification,
    Offer,
    Review,
    WorkerPeriodStats,
    WorkerProfile,
    WorkerService,
)
from marketplace.models.outbox import AuditEvent, OutboxEmail
from marketplace.models.users import ROLE_VALUES, ApiToken, LoginSession, PasswordResetToken, Role, User, UserRole

__all__ = [
    "AvailabilityWindow",
    "BlockedDate",
    "CoopSetting",
    "Job",
    "JobEvent",
    "Message",
    "Notification",
    "Offer",
    "Review",
    "WorkerPeriodStats",
    "WorkerProfile",
    "WorkerService",
    "ROLE_VALUES",
    "ApiToken",
    "AuditEvent",
    "LoginSession",
    "OutboxEmail",
    "PasswordResetToken",
    "Role",
    "ServiceCategory",
    "User",
    "UserRole",
]
