"""The candidate query behind matching, built once per shape and reused with bound values.

Its plan is fixed by construction, on SQLite and on PostgreSQL alike, so it never scans all workers:

1. ``ix_worker_services_area`` finds the services of the job's category whose area box contains the
   job's point (and whose rate is within the cap), reading only the index. Still in the index, a little
   arithmetic drops the box's corners: the point must lie in the ellipse inscribed in the box (with a
   margin), which removes about a sixth of the hits before any probe (see ``in_service_ellipse``).
2. For those rows only, one ``CASE`` tests, cheapest refusal first: an availability window covering the
   job (EXISTS on ``ix_availability_windows_lookup``), no blocked date (NOT EXISTS), no overlapping
   booked gig (NOT EXISTS on ``ix_jobs_worker_schedule``), an active account (primary key). The ``CASE``
   fixes the order, so a later probe never runs once an earlier one refused; on PostgreSQL each EXISTS
   also carries ``OFFSET 0`` so the planner keeps it a per-row index probe instead of a hash join or a
   hashed subplan over a whole table.
3. The survivors are materialised, then each one's profile (by primary key) and this period's hours
   (one probe of the unique ``(worker_id, period_start)`` index) are read. On PostgreSQL the profile is
   a ``LATERAL`` lookup, again so it cannot become a scan of every profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Float,
    Integer,
    Select,
    bindparam,
    case,
    cast,
    false,
    literal_column,
    or_,
    select,
    true,
)

from marketplace.domain.gig_states import BOOKED_STATES
from marketplace.models import (
    AvailabilityWindow,
    BlockedDate,
    Job,
    User,
    WorkerPeriodStats,
    WorkerProfile,
    WorkerService,
)
from marketplace.models.base import UTCDateTime

# Written into the SQL as constants: the statement's text, and so its cached plan, stays the same.
_BOOKED_LITERALS = [literal_column(f"'{state.value}'") for state in sorted(BOOKED_STATES)]
# The ellipse test's margin and where it stands aside; see ``in_service_ellipse``.
ELLIPSE_SLACK = 1.05
FULL_LONGITUDE_E6 = 360_000_000
POLAR_LATITUDE_E6 = 80_000_000
BASE_PARAMETERS = frozenset({"category_id", "lat", "lng", "weekday", "start_minute", "end_minute", "day",
                             "starts_at", "ends_at", "period"})


@dataclass(frozen=True)
class Shape:
    """What changes the statement's text: the dialect, and whether there is a rate cap, a client to leave
    out, and workers already offered the job."""

    dialect: str
    has_cap: bool
    has_client: bool
    has_excluded: bool

    @property
    def parameters(self) -> frozenset[str]:
        optional = {"max_rate": self.has_cap, "client_id": self.has_client, "excluded": self.has_excluded}
        return BASE_PARAMETERS | {name for name, present in optional.items() if present}


@lru_cache(maxsize=32)
def statement(shape: Shape) -> Select:
    """The candidate statement for ``shape``; rows are ``(worker_id, rate_cents, lat_e6, lng_e6, radius_km,
    weekly_minutes, rating_sum, rating_count, minutes_this_period)``, the last NULL without a stats row."""
    found = _found(shape).cte("candidates").prefix_with("MATERIALIZED")
    hours = (
        select(WorkerPeriodStats.minutes_offered + WorkerPeriodStats.minutes_worked)
        .where(WorkerPeriodStats.worker_id == found.c.worker_id,
               WorkerPeriodStats.period_start == bindparam("period", type_=Date))
        .scalar_subquery()
    )
    wanted = ("lat_e6", "lng_e6", "radius_km", "weekly_minutes", "rating_sum", "rating_count")
    profile_filter = (WorkerProfile.user_id == found.c.worker_id, WorkerProfile.is_listed.is_(True))
    if shape.dialect == "postgresql":
        profile = (select(*(WorkerProfile.__table__.c[name] for name in wanted))
                   .where(*profile_filter).limit(1).lateral("profile"))
        source, where = found.join(profile, true()), ()
    else:
        profile, source, where = WorkerProfile.__table__, found.join(WorkerProfile.__table__, profile_filter[0]), \
            profile_filter[1:]
    columns = [profile.c[name] for name in wanted]
    return select(found.c.worker_id, found.c.rate_cents, *columns, hours.label("minutes_this_period")) \
        .select_from(source).where(*where)


def _found(shape: Shape) -> Select:
    """Services whose box contains the job's point, kept only when the worker is free for the job."""
    ws = WorkerService.__table__.c
    worker = ws.worker_id
    lat, lng = bindparam("lat", type_=Integer), bindparam("lng", type_=Integer)
    conditions = [ws.category_id == bindparam("category_id", type_=Integer),
                  ws.min_lat_e6 <= lat, ws.max_lat_e6 >= lat, ws.min_lng_e6 <= lng, ws.max_lng_e6 >= lng,
                  in_service_ellipse(ws, lat, lng)]
    if shape.has_cap:
        conditions.append(ws.rate_cents <= bindparam("max_rate", type_=BigInteger))
    if shape.has_client:
        conditions.append(worker != bindparam("client_id", type_=Integer))
    if shape.has_excluded:
        conditions.append(worker.not_in(bindparam("excluded", expanding=True)))
    return select(worker, ws.rate_cents).where(*conditions, _free(worker, shape.dialect))


def in_service_ellipse(ws, lat, lng) -> ColumnElement[bool]:
    """Whether the job's point lies in the ellipse inscribed in the service's box, give or take 5%.

    The box is centred on the worker's home and spans the radius each way, so in the box's own units
    (``x`` and ``y`` from -1 to 1) the service circle is close to the unit circle and the corners of the
    box (about a fifth of it) are out of reach. The circle bulges slightly towards the pole on a sphere,
    by up to 3% of ``x² + y²`` for a 100 km radius at 79° latitude (the worst case of
    ``tests/unit/test_service_ellipse.py``), so the test allows 5% and never drops a worker whose circle
    holds the point; the exact great-circle check is done later, on the survivors. Boxes that take
    every longitude (circles over a pole or across the antimeridian) and boxes reaching beyond 80°
    latitude are not centred that way and always pass.
    """
    two, slack = literal_column("2"), literal_column(repr(ELLIPSE_SLACK))
    x = cast(two * lng - ws.min_lng_e6 - ws.max_lng_e6, Float) / cast(ws.max_lng_e6 - ws.min_lng_e6, Float)
    y = cast(two * lat - ws.min_lat_e6 - ws.max_lat_e6, Float) / cast(ws.max_lat_e6 - ws.min_lat_e6, Float)
    return or_(ws.max_lng_e6 - ws.min_lng_e6 >= literal_column(str(FULL_LONGITUDE_E6)),
               ws.max_lat_e6 >= literal_column(str(POLAR_LATITUDE_E6)),
               ws.min_lat_e6 <= literal_column(str(-POLAR_LATITUDE_E6)), x * x + y * y <= slack)


def _free(worker, dialect: str) -> object:
    windows, blocked, jobs = AvailabilityWindow.__table__.c, BlockedDate.__table__.c, Job.__table__.c
    covered = _exists(dialect, windows.worker_id == worker, windows.weekday == bindparam("weekday", type_=Integer),
                      windows.start_minute <= bindparam("start_minute", type_=Integer),
                      windows.end_minute >= bindparam("end_minute", type_=Integer))
    day_blocked = _exists(dialect, blocked.worker_id == worker, blocked.day == bindparam("day", type_=Date))
    booked = _exists(dialect, jobs.worker_id == worker, jobs.starts_at < bindparam("ends_at", type_=UTCDateTime),
                     jobs.ends_at > bindparam("starts_at", type_=UTCDateTime), jobs.status.in_(_BOOKED_LITERALS))
    users = User.__table__.c
    active = _exists(dialect, users.id == worker, users.is_active_account.is_(True))
    return case((~covered, false()), (day_blocked, false()), (booked, false()), (~active, false()), else_=true())


def _exists(dialect: str, *conditions):
    """EXISTS of a per-worker index probe. PostgreSQL would rewrite a plain EXISTS into a hashed subplan over
    the whole table; ``OFFSET 0`` is its documented optimisation fence, which keeps the probe per row."""
    probe = select(literal_column("1")).where(*conditions)
    if dialect == "postgresql":
        probe = probe.offset(literal_column("0"))
    return probe.exists()
