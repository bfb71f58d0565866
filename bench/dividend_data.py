"""A year of confirmed gigs with their ledger entries, bulk-loaded for the dividend benchmark and fault test.

Loads, into a migrated database: members (member + worker roles), a tenth as many probationary workers,
clients, ``gigs`` confirmed gigs in ``year`` (every member has at least one; about 10 % are done by
non-members) each with its charge entry ``gig:<id>:charge`` exactly as billing posts it (priced with the
default 5 % deducted fee, so ``ledger verify`` agrees), monthly expenses in three categories (40 % of the
fees) and two interest payments. PostgreSQL rows go in with COPY, SQLite rows with executemany, in chunks;
then ANALYZE. Returns the exact tallies (minutes and earnings per member, MF/NF/OI/X) so a test can compute
the expected allocations with the domain engine directly, independently of the run's SQL.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text

from marketplace.domain import ledger as chart
from marketplace.domain.pricing import price_gig
from marketplace.services.fees import DEFAULT_RATE as FEE  # what billing prices with when no rate was voted

CHUNK = 50_000
PASSWORD_HASH = "$argon2id$v=19$m=19456,t=2,p=1$bench$not-a-login"  # noqa: S105 - nobody logs in as these
EXPENSE_CATEGORIES = ("rent", "software", "insurance")

TABLE_COLUMNS = {
    "users": ("id", "email", "name", "password_hash", "is_active_account", "created_at", "password_changed_at"),
    "user_roles": ("id", "user_id", "role", "granted_at"),
    "service_categories": ("id", "slug", "name", "description", "rate_floor_cents", "is_active"),
    "jobs": ("id", "client_id", "category_id", "title", "description", "neighbourhood", "address", "lat_e6",
             "lng_e6", "starts_at", "ends_at", "estimated_minutes", "status", "worker_id", "agreed_rate_cents",
             "actual_minutes", "offer_round", "created_at", "accepted_at", "completed_at", "confirmed_at",
             "worker_was_member"),
    "ledger_accounts": ("code", "name", "kind", "created_at"),
    "journal_entries": ("id", "idempotency_key", "memo", "occurred_on", "posted_at", "source_type", "source_id"),
    "postings": ("id", "entry_id", "account_code", "amount_cents"),
}


@dataclass
class Dataset:
    """What was loaded, with the exact figures the dividend must be computed from."""

    year: int
    member_ids: list[int]
    minutes: dict[int, int] = field(default_factory=dict)
    earnings: dict[int, int] = field(default_factory=dict)
    member_fees: int = 0
    nonmember_fees: int = 0
    other_income: int = 0
    expenses: int = 0
    gigs: int = 0


class _Writer:
    """Bulk rows into one table: COPY text on PostgreSQL (foreign-key triggers paused for the load, as
    pg_restore does), executemany on SQLite. Values must already be formatted (see ``_Clock`` / ``flag``)."""

    def __init__(self, raw, dialect: str):
        self.raw, self.dialect, self.cursor = raw, dialect, raw.cursor()
        if dialect == "postgresql":
            self.cursor.execute("SET LOCAL session_replication_role = replica")

    def flag(self, value: bool):
        if self.dialect == "postgresql":
            return "t" if value else "f"
        return 1 if value else 0

    def write(self, table: str, rows: list[tuple]) -> None:
        columns = TABLE_COLUMNS[table]
        if not rows:
            return
        if self.dialect == "postgresql":
            payload = "".join("\t".join("\\N" if v is None else str(v) for v in row) + "\n" for row in rows)
            with self.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write(payload.encode())
        else:
            marks = ", ".join("?" for _ in columns)
            self.cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)  # noqa: S608


class _Clock:
    """Timestamps of a year as database text, by minute of the year, with cached day and time parts."""

    def __init__(self, year: int, dialect: str):
        self.start = datetime(year, 1, 1, tzinfo=UTC)
        self.suffix = "+00" if dialect == "postgresql" else ".000000"
        self.days: dict[int, str] = {}
        self.times = [f"{m // 60:02d}:{m % 60:02d}:00" for m in range(1440)]

    def day(self, minute: int) -> str:
        index = minute // 1440
        text_ = self.days.get(index)
        if text_ is None:
            text_ = self.days[index] = (self.start + timedelta(days=index)).date().isoformat()
        return text_

    def at(self, minute: int) -> str:
        return f"{self.day(minute)} {self.times[minute % 1440]}{self.suffix}"

    def moment(self, value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") + self.suffix


def _next_id(conn, table: str) -> int:
    return int(conn.execute(text(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")).scalar())  # noqa: S608


def _people(writer: _Writer, clock: _Clock, first_id: int, members: int, workers: int, clients: int, role_id: int):
    member_ids = list(range(first_id, first_id + members))
    worker_ids = list(range(member_ids[-1] + 1, member_ids[-1] + 1 + workers))
    client_ids = list(range(worker_ids[-1] + 1, worker_ids[-1] + 1 + clients))
    now, yes = clock.moment(datetime.now(UTC)), writer.flag(True)
    writer.write("users", [(uid, f"bench{uid}@bench.coop", f"Bench Person {uid}", PASSWORD_HASH, yes, now, now)
                           for uid in member_ids + worker_ids + client_ids])
    joined = clock.moment(datetime(2000, 1, 1, tzinfo=UTC))
    roles = ([(uid, "member") for uid in member_ids] + [(uid, "worker") for uid in member_ids + worker_ids]
             + [(uid, "client") for uid in client_ids])
    writer.write("user_roles", [(role_id + i, uid, role, joined) for i, (uid, role) in enumerate(roles)])
    return member_ids, worker_ids, client_ids


def _accounts(writer: _Writer, clock: _Clock, workers: list[int], clients: list[int]) -> None:
    codes = ([chart.worker_payable(w) for w in workers] + [chart.client_receivable(c) for c in clients]
             + [chart.FEE_REVENUE_MEMBER, chart.FEE_REVENUE_NONMEMBER, chart.BANK, chart.OTHER_INCOME]
             + [chart.expense(slug) for slug in EXPENSE_CATEGORIES])
    now = clock.moment(datetime.now(UTC))
    writer.write("ledger_accounts", [(code, f"Bench account {code}", chart.account_kind(code), now) for code in codes])


class _Gigs:
    """Generates gigs chunk by chunk; a gig's price comes from the domain pricing (cached per rate × minutes)."""

    def __init__(self, writer: _Writer, clock: _Clock, data: Dataset, ids: dict[str, int], category: int,
                 workers: list[int], clients: list[int], seed: int):
        self.writer, self.clock, self.data, self.ids, self.category = writer, clock, data, ids, category
        self.workers, self.clients, self.rng = workers, clients, random.Random(seed)
        self.prices: dict[tuple[int, int], tuple[int, int, int]] = {}
        self.flags = (writer.flag(False), writer.flag(True))

    def _price(self, rate: int, minutes: int) -> tuple[int, int, int]:
        key = (rate, minutes)
        if key not in self.prices:
            price = price_gig(rate, minutes, FEE)
            self.prices[key] = (price.client_total_cents, price.worker_earnings_cents, price.fee_cents)
        return self.prices[key]

    def _one(self, n: int, jobs: list, entries: list, postings: list) -> None:
        rand, data, members = self.rng.random, self.data, self.data.member_ids
        member = n < len(members) or rand() < 0.9
        pool = members if member else self.workers
        worker = members[n] if n < len(members) else pool[int(rand() * len(pool))]
        client = self.clients[int(rand() * len(self.clients))]
        minutes, rate = 30 + 15 * int(rand() * 31), 2000 + 100 * int(rand() * 41)
        total, earnings, fee = self._price(rate, minutes)
        when = int(rand() * 365) * 1440 + 960 + int(rand() * 420)  # 16:00–23:00 UTC: the same local day
        starts = when - minutes - 60
        job_id, entry_id, posting_id = self.ids["job"], self.ids["entry"], self.ids["posting"]
        at, flag = self.clock.at, self.flags[member]
        jobs.append((job_id, client, self.category, "Bench gig", "", "Mission", "", 37_760_000, -122_420_000,
                     at(starts), at(starts + minutes), min(max(minutes, 30), 720), "confirmed", worker, rate, minutes,
                     1, at(starts - 4320), at(starts - 2880), at(starts + minutes), at(when), flag))
        entries.append((entry_id, f"gig:{job_id}:charge", f"Gig {job_id} charged", self.clock.day(when), at(when),
                        "job", job_id))
        postings += [(posting_id, entry_id, f"1200:{client}", total), (posting_id + 1, entry_id, f"2100:{worker}",
                      -earnings), (posting_id + 2, entry_id, "4000" if member else "4010", -fee)]
        self.ids.update(job=job_id + 1, entry=entry_id + 1, posting=posting_id + 3)
        if member:
            data.minutes[worker] = data.minutes.get(worker, 0) + minutes
            data.earnings[worker] = data.earnings.get(worker, 0) + earnings
            data.member_fees += fee
        else:
            data.nonmember_fees += fee

    def write(self, count: int) -> None:
        for chunk_start in range(0, count, CHUNK):
            jobs, entries, postings = [], [], []
            for n in range(chunk_start, min(count, chunk_start + CHUNK)):
                self._one(n, jobs, entries, postings)
            self.writer.write("jobs", jobs)
            self.writer.write("journal_entries", entries)
            self.writer.write("postings", postings)


def _books(writer: _Writer, clock: _Clock, data: Dataset, ids: dict[str, int]) -> None:
    """Monthly expenses (40 % of fees, three categories) and two interest payments, as the books post them."""
    budget = (data.member_fees + data.nonmember_fees) * 2 // 5
    specs = []
    for month in range(1, 13):
        for i, slug in enumerate(EXPENSE_CATEGORIES):
            amount = budget // 36 + (1 if (month - 1) * 3 + i < budget % 36 else 0)
            specs.append(chart.entry_expense(100_000 + month * 10 + i, slug, amount, date(data.year, month, 28)))
            data.expenses += amount
    for half, amount in ((6, 12_345), (12, 23_456)):
        specs.append(chart.entry_other_income(100_000 + half, amount, date(data.year, half, 30), "Bank interest"))
        data.other_income += amount
    now = clock.moment(datetime.now(UTC))
    entries, postings = [], []
    for spec in specs:
        entries.append((ids["entry"], spec.idempotency_key, spec.memo, spec.occurred_on.isoformat(), now, "books",
                        None))
        for p in spec.postings:
            postings.append((ids["posting"], ids["entry"], p.account_code, p.amount_cents))
            ids["posting"] += 1
        ids["entry"] += 1
    writer.write("journal_entries", entries)
    writer.write("postings", postings)


BULK_TABLES = ("jobs", "journal_entries", "postings", "user_roles", "ledger_accounts")


def _drop_plain_indexes(conn, dialect: str) -> list[str]:
    """Drop the secondary indexes of the bulk tables (keys and unique constraints stay) and return their
    definitions: building an index once after the load is much faster than maintaining it row by row."""
    if dialect == "postgresql":
        rows = conn.execute(text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
            "AND i.tablename = ANY(:tables) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname)"), {"tables": list(BULK_TABLES)}).all()
    else:
        marks = ", ".join(f"'{table}'" for table in BULK_TABLES)
        rows = conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "  # noqa: S608
            f"AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ({marks})")).all()
    for name, _ in rows:
        conn.execute(text(f'DROP INDEX "{name}"'))
    return [definition for _, definition in rows]


def _fix_sequences(conn, dialect: str) -> None:
    if dialect != "postgresql":
        return
    for table in ("users", "user_roles", "service_categories", "jobs", "journal_entries", "postings"):
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                          f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))


def load(engine, *, members: int, gigs: int, year: int = 2025, seed: int = 7) -> Dataset:
    """Bulk-load ``members`` members and ``gigs`` (≥ members) confirmed gigs of ``year``; returns the tallies."""
    if gigs < members:
        raise ValueError("every member needs a gig: gigs must be at least members")
    dialect = engine.dialect.name
    clock = _Clock(year, dialect)
    with engine.begin() as conn:
        ids = {name: _next_id(conn, table) for name, table in (
            ("user", "users"), ("role", "user_roles"), ("category", "service_categories"), ("job", "jobs"),
            ("entry", "journal_entries"), ("posting", "postings"))}
        indexes = _drop_plain_indexes(conn, dialect)
        writer = _Writer(conn.connection.driver_connection, dialect)
        writer.write("service_categories", [(ids["category"], f"bench-{ids['category']}", "Bench", "", 1000,
                                             writer.flag(True))])
        members_, workers, clients = _people(writer, clock, ids["user"], members, max(1, members // 10),
                                             max(10, members // 10), ids["role"])
        _accounts(writer, clock, members_ + workers, clients)
        data = Dataset(year=year, member_ids=members_, gigs=gigs)
        _Gigs(writer, clock, data, ids, ids["category"], workers, clients, seed).write(gigs)
        _books(writer, clock, data, ids)
        for definition in indexes:
            conn.execute(text(definition))
        _fix_sequences(conn, dialect)
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return data
