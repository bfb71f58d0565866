"""Benchmark (issue 5): a full dividend run through a real Celery worker vs one hand-written
``INSERT … SELECT … GROUP BY`` that aggregates patronage per member, on the same data in the same run.

    .venv/bin/python bench/dividends.py [--db sqlite|postgresql|both] [--members 10000] [--gigs 1000000]
                                        [--write-readme]

Per database: a fresh migrated database, bulk-loaded with ``bench/dividend_data.py`` (COPY on PostgreSQL,
executemany on SQLite); a closed period with an approved policy and an approved run; the reference statement
timed three times (median); then the treasurer's Run (``services.dividends.start_run``) executed by a real
``celery worker`` process: compute, allocations, ledger entries and notice rows (no PDFs). The run's time is
the worker's own ``started_at`` → ``finished_at``; the wall time from Run to completed is shown too. Peak
memory is the worker pool process's VmHWM. The result is checked against the domain engine on the loader's
tallies. Environment: BENCH_DATABASE_URL (a PostgreSQL server; default the local one), BENCH_REDIS_URL (the
broker; default redis://127.0.0.1:6379/15).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import bindparam, select, text  # noqa: E402
from treasury_helpers import isolated_broker  # noqa: E402

import support  # noqa: E402
from bench import dividend_data  # noqa: E402
from bench.process_tools import descendants, peak_rss_mb  # noqa: E402
from marketplace.domain.patronage import AllocationPolicy, IncomeFigures, MemberPatronage, compute_allocation  # noqa: E402
from marketplace.models.base import UTCDateTime  # noqa: E402

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_DEFAULT = "redis://127.0.0.1:6379/15"
POLICY = {"reserve_percent": "10", "hours_weight": "1", "earnings_weight": "1", "cash_percent": "20"}

# The reference: patronage per member over the period's member gigs, one statement, written by hand.
REFERENCE_SQL = """
INSERT INTO bench_patronage (member_id, minutes, earnings_cents)
SELECT j.worker_id, SUM(j.actual_minutes), SUM(-p.amount_cents)
FROM jobs j
JOIN journal_entries e ON e.idempotency_key = 'gig:' || CAST(j.id AS VARCHAR) || '\\:charge'
JOIN postings p ON p.entry_id = e.id AND p.account_code = '2100:' || CAST(j.worker_id AS VARCHAR)
WHERE j.worker_was_member = TRUE AND j.confirmed_at >= :start AND j.confirmed_at < :end
GROUP BY j.worker_id
"""


def make_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite'}"
    return support.create_postgres_database(os.environ.get("BENCH_DATABASE_URL", PG_DEFAULT))


def reference_times(db, period, repeats: int = 3) -> list[float]:
    """Time the hand-written statement ``repeats`` times into a scratch table."""
    from marketplace.services.periods import period_bounds

    start, end = period_bounds(period)
    statement = text(REFERENCE_SQL).bindparams(bindparam("start", type_=UTCDateTime),
                                               bindparam("end", type_=UTCDateTime))
    db.session.execute(text("CREATE TABLE bench_patronage (member_id BIGINT, minutes BIGINT, earnings_cents BIGINT)"))
    db.session.commit()
    times = []
    for _ in range(repeats):
        db.session.execute(text("DELETE FROM bench_patronage"))
        db.session.commit()
        began = time.perf_counter()
        rows = db.session.execute(statement, {"start": start, "end": end}).rowcount
        db.session.commit()
        times.append(time.perf_counter() - began)
    print(f"  reference statement: {rows} members, {', '.join(f'{t:.2f}s' for t in times)}", flush=True)
    return times


def setup_period(db):
    from treasury_helpers import period_2025

    from marketplace.models import User, UserRole
    from marketplace.services import dividends

    people = []
    for role in ("treasurer", "admin"):
        user = User(email=f"{role}@bench.coop", name=f"Bench {role}", password_hash="x")
        user.role_rows = [UserRole(role=role)]
        db.session.add(user)
        people.append(user)
    db.session.commit()
    treasurer, admin = people
    period = period_2025(treasurer, admin, **POLICY)
    dividends.approve_run(period.id, admin.id)
    return period, treasurer


def run_through_worker(app, db, period, treasurer, env, workdir: Path) -> dict:
    """Press Run, let a real worker process execute it, and measure time and the pool process's peak memory."""
    from marketplace.models.treasury import DividendRun
    from marketplace.services import dividends

    worker = support.start_celery_worker(env, workdir / "worker.log")
    try:
        pool = descendants(worker.pid)
        idle_mb = max(peak_rss_mb(pid) for pid in pool)
        began = time.perf_counter()
        run = dividends.start_run(period.id, treasurer.id)
        while True:
            state = dividends.progress(run.id)["state"]
            if state in ("completed", "failed"):
                break
            time.sleep(0.05)
        wall = time.perf_counter() - began
        peak_mb = max(peak_rss_mb(pid) for pid in pool)
    finally:
        support.stop_process(worker)
        app.extensions["celery"].control.purge()
    db.session.expire_all()
    row = db.session.get(DividendRun, run.id)
    if row.status != "completed":
        raise RuntimeError(f"the run failed: {row.error}")
    phases = re.search(r"dividend run \d+: \d+ members; (.*?); peak RSS", (workdir / "worker.log").read_text())
    return {"run": row, "wall": wall, "seconds": (row.finished_at - row.started_at).total_seconds(),
            "idle_mb": idle_mb, "peak_mb": peak_mb, "phases": phases.group(1) if phases else "(not logged)"}


def check_against_engine(db, run, data) -> bool:
    from marketplace.models.treasury import Allocation

    members = [MemberPatronage(str(m), Fraction(data.minutes.get(m, 0), 60), data.earnings.get(m, 0))
               for m in sorted(data.member_ids)]
    policy = AllocationPolicy(Fraction(10), Fraction(1), Fraction(1), Fraction(20))
    income = IncomeFigures(data.member_fees, data.nonmember_fees, data.other_income, data.expenses)
    expected = {int(line.member): line.allocation for line in compute_allocation(members, policy, income).lines}
    got = dict(db.session.execute(select(Allocation.member_id, Allocation.allocation_cents)
                                  .where(Allocation.run_id == run.id)).all())
    return got == expected


def bench_one(kind: str, members: int, gigs: int) -> dict:
    from marketplace import create_app
    from marketplace.extensions import db

    workdir = Path(tempfile.mkdtemp(prefix=f"bench-dividends-{kind}-"))
    url = make_database(kind, workdir)
    broker = os.environ.get("BENCH_REDIS_URL", REDIS_DEFAULT)
    try:
        support.migrate_database(url)
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
        app.extensions["celery"].conf.update(broker_url=broker, result_backend=broker)
        env = support.process_env(url, broker, broker, workdir / "instance", **isolated_broker(app))
        with app.app_context():
            print(f"{kind}: loading {members} members and {gigs} gigs…", flush=True)
            began = time.perf_counter()
            data = dividend_data.load(db.engine, members=members, gigs=gigs)
            load_seconds = time.perf_counter() - began
            print(f"  loaded in {load_seconds:.1f}s", flush=True)
            period, treasurer = setup_period(db)
            reference = reference_times(db, period)
            measured = run_through_worker(app, db, period, treasurer, env, workdir)
            reference += reference_times_again(db, period)
            identical = check_against_engine(db, measured["run"], data)
            db.session.remove()
            db.engine.dispose()
        median = statistics.median(reference)
        return {"db": kind, "members": members, "gigs": gigs, "load": load_seconds, "reference": median,
                "reference_all": reference, "run": measured["seconds"], "wall": measured["wall"],
                "ratio": measured["seconds"] / median, "peak_mb": measured["peak_mb"], "idle_mb": measured["idle_mb"],
                "identical": identical, "phases": measured["phases"]}
    finally:
        if kind == "postgresql":
            support.drop_postgres_database(url)


def reference_times_again(db, period) -> list[float]:
    db.session.execute(text("DROP TABLE bench_patronage"))
    db.session.commit()
    return reference_times(db, period, repeats=2)


def markdown(results: list[dict], command: str) -> str:
    lines = [
        "## Dividends",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'the CI box'}: 2 shared cores "
        f"({os.cpu_count()} CPUs visible, other jobs running), Python {platform.python_version()}, "
        "PostgreSQL and Redis local.",
        "",
        f"Command: `{command}`",
        "",
        "A full dividend run (a real Celery worker: snapshot of patronage with one INSERT … SELECT … GROUP BY, "
        "income figures, the domain engine in memory, allocations, ledger entries and notice rows in batches of "
        "1,000; no PDFs) against one hand-written INSERT … SELECT … GROUP BY aggregating patronage per member, "
        "on the same data in the same process run. Run time is the worker's own started → finished; the "
        "reference is the median of five executions. Memory is the worker pool process's peak RSS (VmHWM).",
        "",
        "| database | members | gigs | load | reference statement (min–max) | full run | Run → completed | ratio "
        "| peak RSS (idle) | allocations = engine |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['db']} | {r['members']:,} | {r['gigs']:,} | {r['load']:.0f} s | {r['reference']:.2f} s "
            f"({min(r['reference_all']):.1f}–{max(r['reference_all']):.1f}) | "
            f"{r['run']:.2f} s | {r['wall']:.2f} s | **{r['ratio']:.2f}×** | {r['peak_mb']:.0f} MB "
            f"({r['idle_mb']:.0f} MB) | {'yes' if r['identical'] else 'NO'} |")
    lines += ["", "Where the run's time goes (from the worker's log line):", ""]
    lines += [f"- {r['db']}: {r['phases']}" for r in results]
    lines += ["", "The snapshot phase is the run's own INSERT … SELECT … GROUP BY (same joins as the reference, plus "
              "eligible members and capital balances) and the income figures; compute is the domain engine over "
              "every member in exact fractions; write is the batches. Targets: ratio ≤ 3× (stretch 1.5×), peak "
              "memory ≤ 300 MB.", ""]
    return "\n".join(lines)


def write_readme(section: str) -> None:
    """Replace (or append) only the '## Dividends' section of bench/README.md."""
    path = ROOT / "bench" / "README.md"
    current = path.read_text() if path.exists() else "# Benchmarks\n\n"
    lines = current.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == "## Dividends"), None)
    if start is None:
        updated = current.rstrip("\n") + "\n\n" + section
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        updated = "".join(lines[:start]) + section + ("\n" + "".join(lines[end:]) if end < len(lines) else "")
    path.write_text(updated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--gigs", type=int, default=1_000_000)
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = [bench_one(kind, args.members, args.gigs) for kind in kinds]
    command = ".venv/bin/python bench/dividends.py " + " ".join(sys.argv[1:])
    section = markdown(results, command.strip())
    print(section)
    if args.write_readme:
        write_readme(section)


if __name__ == "__main__":
    main()
