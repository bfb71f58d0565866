"""All models, imported here so Alembic and the app see the whole schema."""

from marketplace.models.books import Expense, ImportBatch, OtherIncome  # noqa: F401  (the treasurer's books)
from marketplace.models.catalog import ServiceCategory
from marketplace.models.governance import (  # noqa: F401  (membership and governance)
    Ballot,
    BallotKey,
    Membership,
    MembershipEvent,
    OfficerTerm,
    Participation,
    Proposal,
    ProposalComment,
    ProposalOption,
    SharePayment,
)
from marketplace.models.ledger import (  # noqa: F401  (the money tables)
    FeeRate,
    Invoice,
    JournalEntry,
    LedgerAccount,
    Payment,
    PaymentMethod,
    PayoutAccount,
    PayoutBatch,
    PayoutLine,
    Posting,
)
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
from marketplace.models.treasury import (  # noqa: F401  (the treasury tables)
    Allocation,
    AllocationNotice,
    AllocationPolicy,
    CapitalRedemption,
    DividendPatronage,
    DividendRun,
    FiscalPeriod,
)
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
