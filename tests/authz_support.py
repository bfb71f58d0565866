"""One world for the authorization tests: a person of every kind, and a real record behind every kind of id a
route takes — a client's open job and gigs in several states (each with a private street address), a dividend
run with notices of allocation, a payout batch, a paid invoice, an expense with its receipt, a bank import and
an open proposal. Everything goes through the services, as production makes it.

The people, by the name the authorization matrix gives them (``ACTORS``):

- ``client`` posted every job; ``client2`` is another client with nothing of theirs here;
- ``worker`` holds the gigs; ``worker2`` offers the same service nearby, so is offered the open job but holds
  no gig;
- ``member`` is a worker-owner in good standing who tabled the open proposal; ``member2`` (not an actor) is
  the other member, whose capital account, notice and register entry the routes are asked for;
- ``treasurer`` and ``admin`` (the board).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from governance_support import add_member
from sqlalchemy import select, text
from treasury_helpers import confirmed_gig, period_2025

from marketplace.extensions import db
from marketplace.models import Invoice, Job, Offer, User
from marketplace.models.treasury import AllocationNotice
from marketplace.services import (
    books,
    dividends,
    gigs,
    governance,
    invoices,
    jobs,
    offers,
    payouts,
    periods,
)
from marketplace_helpers import local_start, make_category, make_worker

ACTORS = ("anonymous", "client", "client2", "worker", "worker2", "member", "treasurer", "admin")
OPEN_ADDRESS = "17 Hidden Orchard Lane"
GIG_ADDRESS = "4 Secret Courtyard Mews"
RECEIPT_PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@dataclass
class World:
    people: dict[str, User]
    ids: dict[str, int] = field(default_factory=dict)

    def user(self, name: str) -> User:
        return self.people[name]


def build_people(make_user) -> World:
    category = make_category("house-cleaning", floor=2000)
    people = {
        "client": make_user("client", name="Clara Client"),
        "client2": make_user("client", name="Carl Other-Client"),
        "worker": make_worker(make_user, category, name="Wendy Worker"),
        "worker2": make_worker(make_user, category, name="Walt Other-Worker"),
        "member": add_member(make_user, name="Mona Member"),
        "member2": add_member(make_user, name="Max Other-Member"),
        "treasurer": make_user("treasurer", name="Tess Treasurer"),
        "admin": make_user("admin", name="Ada Admin"),
    }
    return World(people=people, ids={"category": category.id})


def _post(world: World, title: str, days: int, address: str, invite: str | None = None):
    return jobs.post_job(world.user("client").id, category="house-cleaning", title=title, description="Two rooms.",
                         neighbourhood="Downtown", address=address, starts_at=local_start(days=days), hours="2",
                         invite_worker_id=world.user(invite).id if invite else None)


def add_jobs(world: World) -> None:
    """The client's open request (offered to both workers) and three gigs of ``worker``: accepted, started and
    confirmed (charged; the client has no card, so it is invoiced for bank transfer)."""
    worker = world.user("worker").id
    world.ids["job_open"] = _post(world, "Open request", 4, OPEN_ADDRESS).id
    for name, days, steps in (("gig_accepted", 5, 1), ("gig_started", 6, 2), ("gig_confirmed", 7, 4)):
        job = _post(world, name.replace("_", " ").title(), days, GIG_ADDRESS, invite="worker")
        offers.accept_offer(job.id, worker)
        if steps >= 2:
            gigs.start_gig(job.id, worker)
        if steps >= 4:
            gigs.complete_gig(job.id, worker, 120)
            gigs.confirm_gig(job.id, world.user("client").id)
        world.ids[name] = job.id


def add_money(world: World) -> None:
    """The confirmed gig's invoice, paid; the worker's earnings paid out in this week's batch."""
    invoice = db.session.scalar(select(Invoice).order_by(Invoice.id.desc()))
    assert invoice is not None, "the confirmed gig was not invoiced"
    invoices.mark_invoice_paid(invoice.id, world.user("treasurer").id)
    payouts.set_payout_account(world.user("worker").id, "Wendy Worker", "DE89 3704 0044 0532 0130 00")
    batch = payouts.create_payout_batch(minimum_cents=1)
    assert batch is not None, "nobody was paid out"
    world.ids.update(invoice=invoice.id, batch=batch.id)


def add_treasury(world: World) -> None:
    """FY 2025 with both members' patronage, closed, its policy approved and its dividend run completed."""
    for name, minutes, earnings in (("member", 600, 30_000), ("member2", 300, 10_000)):
        confirmed_gig(world.user(name), world.user("client"), minutes=minutes, earnings_cents=earnings,
                      fee_cents=earnings // 10)
    treasurer, admin = world.user("treasurer"), world.user("admin")
    period = period_2025(treasurer, admin)
    dividends.approve_run(period.id, admin.id)
    run = dividends.start_run(period.id, treasurer.id)
    assert dividends.execute_run(run.id) == "completed"
    notices = {row.allocation.member_id: row.id for row in db.session.scalars(select(AllocationNotice))}
    world.ids.update(period=period.id, policy=periods.current_policy(period.id).id, run=run.id,
                     notice=notices[world.user("member2").id], own_notice=notices[world.user("member").id])


def add_books(world: World) -> None:
    """An expense with a receipt, and a bank file imported."""
    today = books.local_today()
    treasurer = world.user("treasurer").id
    expense = books.record_expense(occurred_on=today, category="hosting", amount_cents=4_900, memo="Hosting",
                                   actor_id=treasurer, receipt_data=RECEIPT_PNG, receipt_filename="slip.png")
    yesterday = (today - timedelta(days=1)).isoformat()
    batch = books.import_bank_csv(f"date,amount,description,category\n{yesterday},12.00,Domain name,hosting\n"
                                  f"{yesterday},1.27,Savings interest,income:interest\n", treasurer, "bank.csv")
    world.ids.update(expense=expense.id, import_batch=batch.id)


def add_governance(world: World) -> None:
    proposal = governance.table_proposal(world.user("member").id, "general", "Plant a tree by the office", "")
    world.ids["proposal"] = proposal.id


def build_world(make_user, *, treasury: bool = True) -> World:
    """Everything above; ``treasury=False`` leaves out the dividend run, the books and the payouts (for tests
    about gigs only)."""
    world = build_people(make_user)
    add_jobs(world)
    add_governance(world)
    if treasury:
        add_money(world)
        add_treasury(world)
        add_books(world)
    return world


def fingerprint() -> dict[str, str]:
    """A digest of every table's rows, read on a fresh connection: two equal fingerprints mean nothing was
    written in between."""
    digests = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns) or "1"
            rows = conn.execute(text(f'SELECT * FROM "{table.name}" ORDER BY {order}')).all()  # noqa: S608
            digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def sanity_check(world: World) -> None:
    """The world is as the docstring says (so a matrix cell never passes for a reason the test did not mean)."""
    def offered(job_key: str, who: str) -> bool:
        return db.session.scalar(select(Offer.id).where(Offer.job_id == world.ids[job_key],
                                                        Offer.worker_id == world.user(who).id)) is not None

    states = {key: db.session.get(Job, world.ids[key]).status
              for key in ("job_open", "gig_accepted", "gig_started", "gig_confirmed")}
    assert states == {"job_open": "offered", "gig_accepted": "accepted", "gig_started": "in_progress",
                      "gig_confirmed": "confirmed"}, states
    assert offered("job_open", "worker2") and not offered("gig_accepted", "worker2")
    assert not offered("job_open", "member")
    if "invoice" in world.ids:
        assert db.session.get(Invoice, world.ids["invoice"]).status == "paid"
