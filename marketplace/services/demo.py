"""The demo co-op: categories, about thirty workers (most of them members), twenty clients, a treasurer
and an admin, all in one city. Every demo account uses the same password, shown in the README."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Role, ServiceCategory, User, UserRole
from marketplace.services.passwords import hash_password

DEMO_PASSWORD = "coop-demo-2026"  # noqa: S105 - the published demo login

CATEGORIES = [
    ("house-cleaning", "House cleaning", 2200, "Regular and deep cleaning of homes and apartments."),
    ("childcare", "Childcare", 2000, "Babysitting and after-school care by vetted carers."),
    ("dog-walking", "Dog walking", 1800, "Walks, feeding and company for dogs."),
    ("handyman", "Handyman", 3000, "Small repairs, furniture assembly, mounting and fixing."),
    ("moving-help", "Moving help", 2500, "Packing, loading and carrying on moving day."),
    ("tutoring", "Tutoring", 2800, "School subjects, languages and exam preparation."),
    ("gardening", "Gardening", 2300, "Mowing, planting, pruning and yard clean-up."),
    ("elder-care", "Elder care", 2400, "Companionship, errands and help at home for older people."),
]

FIRST_NAMES = ["Ana", "Marcus", "Li", "Fatima", "Jamal", "Sofia", "Dmitri", "Grace", "Kwame", "Rosa", "Tomas",
               "Priya", "Omar", "Hannah", "Mateo", "Aisha", "Chen", "Lucia", "Samuel", "Nadia", "Ravi", "Elena",
               "Kofi", "Maya", "Jonah", "Leila", "Diego", "Yuki", "Amara", "Felix", "Ines", "Hugo", "Zara",
               "Pablo", "Mei", "Tariq", "Olga", "Bruno", "Alma", "Sven", "Carmen", "Idris", "Noor", "Ezra",
               "Lina", "Tobias", "Rania", "Marta", "Kai", "Bea"]
LAST_NAMES = ["Morales", "Johnson", "Wei", "Haddad", "Williams", "Rossi", "Ivanov", "Okafor", "Mensah", "Diaz",
              "Novak", "Patel", "Farouk", "Schmidt", "Garcia", "Bello", "Lin", "Ferreira", "Adeyemi", "Karimi",
              "Shah", "Popescu", "Boateng", "Cohen", "Park", "Nasser", "Lopez", "Tanaka", "Eze", "Weber"]

N_WORKERS = 30
N_PROBATIONARY = 5
N_CLIENTS = 20


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


def _people(rng: random.Random, count: int) -> list[str]:
    names = [f"{f} {last}" for f in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(names)
    return names[:count]


def seed() -> dict[str, int]:
    """Create the demo co-op: people, then a living history through the services (see ``seed_activity``)."""
    summary = seed_people()
    summary.update(seed_activity())
    return summary


def seed_activity() -> dict[str, int]:
    """Membership register and decisions, worker profiles, last year closed with its dividend run and payouts,
    this year's books so far, and gigs in every state. Each step uses the services people use."""
    from marketplace.services import demo_gigs, demo_governance, demo_money, demo_treasury
    from marketplace.services.worker_stats import local_today

    rng = random.Random(7)
    today = local_today()
    governance = demo_governance.seed_governance(today)
    profiles = demo_gigs.seed_profiles(rng)
    treasury = demo_treasury.seed_treasury(today)
    batches = demo_gigs.pay_out_year(today.year - 1)
    books = demo_money.seed_books(today.year)
    states = demo_gigs.seed_gigs(rng)
    return {"profiles": profiles, "members registered": governance.get("members", 0),
            "past-year gigs": treasury.get("history gigs", 0), "payout batches": batches,
            "expenses this year": books.get("expenses", 0), "live gigs": sum(states.values())}


def seed_people() -> dict[str, int]:
    """Create the demo co-op's people in one transaction and return what was made."""
    rng = random.Random(2026)
    password_hash = hash_password(DEMO_PASSWORD)  # one hash for all demo accounts keeps seeding fast
    for slug, name, floor, description in CATEGORIES:
        db.session.add(ServiceCategory(slug=slug, name=name, rate_floor_cents=floor, description=description))

    def add(email: str, name: str, roles: list[str]) -> User:
        user = User(email=email, name=name, password_hash=password_hash)
        user.role_rows = [UserRole(role=r) for r in roles]
        db.session.add(user)
        return user

    names = _people(rng, N_WORKERS + N_CLIENTS + 2)
    add("admin@demo.coop", names.pop(), [Role.ADMIN.value])
    add("treasurer@demo.coop", names.pop(), [Role.TREASURER.value, Role.WORKER.value, Role.MEMBER.value])
    for i in range(1, N_WORKERS + 1):
        probationary = i > N_WORKERS - N_PROBATIONARY
        email = {1: "member@demo.coop", N_WORKERS: "probation@demo.coop"}.get(i, f"worker{i:02d}@demo.coop")
        roles = [Role.WORKER.value] if probationary else [Role.WORKER.value, Role.MEMBER.value]
        add(email, names.pop(), roles)
    for i in range(1, N_CLIENTS + 1):
        add("client@demo.coop" if i == 1 else f"client{i:02d}@demo.coop", names.pop(), [Role.CLIENT.value])
    db.session.commit()
    return {"categories": len(CATEGORIES), "workers": N_WORKERS, "members": N_WORKERS - N_PROBATIONARY + 1,
            "clients": N_CLIENTS, "staff": 2}
