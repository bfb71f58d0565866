"""Scale-out check (hardening issue): two gunicorn servers and two Celery workers on one PostgreSQL database and
one Redis keep the guarantees a single server gives.

    .venv/bin/python bench/scale_out.py [--rounds 10] [--racers 50] [--members 200] [--keep]

What runs: a fresh PostgreSQL database, migrated as production does and given a small world (a client, racing
workers with API tokens, a treasurer, an admin, members with a closed period's patronage); two servers started
like production (``gunicorn -c gunicorn.conf.py``, APP_ENV=production, 2 processes x 4 threads each, on
loopback ports) and two ``celery worker`` processes (2 processes each), all sharing the database and Redis
(broker and rate-limit counters, under a key prefix of this run's own). Then:

1. Concurrent accept, ``--rounds`` times: a job offered to ``--racers`` workers, who all POST
   /api/v1/jobs/{id}/accept at the same moment, alternating between the two servers. Exactly one 200, the
   rest 409, and the database holds one worker, one accepted offer and one accept event.
2. Dividend run: the admin approves the closed period's run eight times at once and the treasurer presses
   Run eight times at once, half through each server; the run task is also enqueued four more times, for the
   two workers to race over. One run row, one start, one execution (one claim), one allocation per member,
   allocations posted once, and ``flask ledger verify`` passes.
3. Shared limits (Flask-Limiter counting in Redis): 30 simultaneous token requests from one address and 30
   simultaneous job posts by one client, half through each server, are allowed exactly the configured number
   of times (``RATELIMIT_API_TOKEN``, ``RATELIMIT_JOB_POSTING`` — not once per process); another client may
   still post. As a control, the token requests go again to two extra servers that count in their own
   memory, where more than the limit must get through (else the check could not tell the difference).

Prints a summary table (markdown) and exits 1 if any guarantee is broken. Every process, the database and the
Redis keys are removed at the end (``--keep`` keeps the database and logs for a look). Environment:
BENCH_DATABASE_URL (a PostgreSQL server; default the local one), BENCH_REDIS_URL (default
redis://127.0.0.1:6379/14).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import support  # noqa: E402

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_DEFAULT = "redis://127.0.0.1:6379/14"
PASSWORD = "Scale-Out-Check-42"  # noqa: S105 - a throwaway account in a throwaway database
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
SIMULTANEOUS = 30  # requests sent at once in the limit checks


@dataclass
class Check:
    scenario: str
    guarantee: str
    expected: str
    observed: str
    ok: bool


@dataclass
class Cluster:
    workdir: Path
    env: dict[str, str]
    servers: list[tuple[subprocess.Popen, str, Path]] = field(default_factory=list)
    workers: list[tuple[subprocess.Popen, Path]] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [url for _, url, _ in self.servers]

    def stop(self) -> None:
        for proc, *_ in [*self.servers, *self.workers]:
            support.stop_process(proc, timeout=20)


# ------------------------------------------------------------------------------------------------ processes


def cluster_env(db_url: str, redis_url: str, prefix: str, instance: Path) -> dict[str, str]:
    """What every server and worker reads: production settings, one database, one Redis, one secret."""
    owned = {"DATABASE_URL", "REDIS_URL", "APP_ENV", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
             "RATELIMIT_ENABLED", "RATELIMIT_STORAGE_URI", "TRUSTED_PROXY_COUNT"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_") and k not in owned}
    env.update({
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "SESSION_COOKIE_SECURE": "false",  # plain HTTP on loopback; production sits behind TLS
        "LOG_FORMAT": "text",
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "INSTANCE_PATH": str(instance),
        "PYTHONPATH": str(ROOT),
        # This run's own namespace in Redis: Celery's queues and the limiter's counters.
        "FLASK_CELERY__broker_transport_options__global_keyprefix": f"{prefix}:",
        "FLASK_RATELIMIT_STORAGE_OPTIONS": json.dumps({"key_prefix": f"{prefix}-limits"}),
    })
    return env


def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    """``gunicorn -c gunicorn.conf.py`` as production runs it, on a free loopback port; returns when /readyz is 200."""
    server = support.start_gunicorn({**env, "WEB_CONCURRENCY": "2", "WEB_THREADS": "4"}, log,
                                    options=("-c", str(ROOT / "gunicorn.conf.py")), ready_path="/readyz", timeout=90)
    return server.proc, server.url


def start_cluster(workdir: Path, env: dict[str, str]) -> Cluster:
    cluster = Cluster(workdir, env)
    try:
        for n in (1, 2):
            log = workdir / f"server{n}.log"
            proc, url = start_server(env, log)
            cluster.servers.append((proc, url, log))
        for n in (1, 2):
            log = workdir / f"worker{n}.log"
            cluster.workers.append((support.start_celery_worker(env, log, concurrency=2), log))
    except Exception:
        cluster.stop()
        raise
    return cluster


# ------------------------------------------------------------------------------------------------ HTTP


def call(url: str, method: str = "GET", *, body: dict | None = None, headers: dict | None = None,
         opener=None, form: dict | None = None) -> tuple[int, dict, str]:
    """(status, headers, text) of one request; HTTP errors are answers too."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif method == "POST":
        data = b""
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with (opener or urllib.request.build_opener(NoRedirect)).open(request, timeout=180) as resp:
            return resp.status, dict(resp.headers), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode("utf-8", "replace")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A person's cookie jar on one server (the session cookie is valid on both: one SECRET_KEY)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  NoRedirect)

    def get(self, path: str) -> tuple[int, dict, str]:
        return call(self.base + path, opener=self.opener)

    def csrf(self, path: str) -> str:
        status, _, html = self.get(path)
        match = CSRF_RE.search(html)
        if status != 200 or not match:
            raise RuntimeError(f"no form on {self.base}{path} ({status})")
        return match.group(1) or match.group(2)

    def post(self, path: str, form: dict) -> tuple[int, dict, str]:
        return call(self.base + path, "POST", form=form, opener=self.opener)

    def log_in(self, email: str) -> Browser:
        status, _, _ = self.post("/login", {"email": email, "password": PASSWORD, "csrf_token": self.csrf("/login")})
        if status != 302:
            raise RuntimeError(f"{email} could not log in on {self.base} ({status})")
        return self


def all_at_once(calls: list) -> list:
    """Run every zero-argument callable in its own thread, released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int, fn) -> None:
        barrier.wait()
        try:
            results[i] = fn()
        except Exception as exc:  # noqa: BLE001 - a failed request is a result to report
            results[i] = (0, {}, f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


# ------------------------------------------------------------------------------------------------ the world


@dataclass
class World:
    category_id: int
    client_id: int
    other_client_token: str
    client_token: str
    racers: list[tuple[int, str]]
    period_id: int
    member_ids: list[int]
    limit_email: str


def _token_for(db, user_id: int) -> str:
    from marketplace.models import ApiToken
    from marketplace.models.base import utcnow
    from marketplace.services.accounts import digest

    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user_id, token_digest=digest(token), expires_at=utcnow() + timedelta(days=1)))
    return token


def build_world(app, racers: int, members: int) -> World:
    """People and records written straight to the database (the servers only ever see the result)."""
    from treasury_helpers import confirmed_gig, period_2025

    from marketplace.extensions import db
    from marketplace.models import ServiceCategory, User, UserRole
    from marketplace.services import billing, profiles
    from marketplace.services.passwords import hash_password
    from marketplace_helpers import ALL_WEEK

    with app.app_context():
        password_hash = hash_password(PASSWORD)

    def person(email: str, *roles: str) -> User:
        user = User(email=email, name=email.split("@")[0].replace("-", " ").title(), password_hash=password_hash)
        user.role_rows = [UserRole(role=r) for r in roles]
        db.session.add(user)
        return user

    with app.app_context():
        category = ServiceCategory(slug="scale-out", name="Scale-out check", rate_floor_cents=1000)
        db.session.add(category)
        client, other = person("client@scale.coop", "client"), person("other-client@scale.coop", "client")
        person("limits@scale.coop", "client")
        workers = [person(f"racer-{i:02d}@scale.coop", "worker", *(("member",) if i % 2 else ()))
                   for i in range(racers)]
        db.session.commit()
        for worker in workers:  # available all week, so a posted job has someone to be offered to
            profiles.save_profile(worker.id, bio="", neighbourhood="Downtown", lat=37.8044, lng=-122.2712,
                                  radius_km=25, services=[("scale-out", 2500)], windows=ALL_WEEK, blocked_dates=[])
        racer_tokens = [(w.id, _token_for(db, w.id)) for w in workers]
        client_token, other_token = _token_for(db, client.id), _token_for(db, other.id)
        treasurer, admin = person("treasurer@scale.coop", "treasurer", "member"), person("admin@scale.coop", "admin")
        owners = [person(f"owner-{i:03d}@scale.coop", "worker", "member") for i in range(members)]
        db.session.commit()
        year = date.today().year - 2
        for i, owner in enumerate(owners):  # each gig billed as production bills it, so the books tie out
            gig = confirmed_gig(owner, client, minutes=60 + i % 240, earnings_cents=0, fee_cents=0,
                                confirmed_at=datetime(year, 1 + i % 12, 10, 18, 0, tzinfo=UTC), post_charge=False)
            billing.on_gig_confirmed(gig.id)
        period = period_2025(treasurer, admin, name=f"FY {year}", start=date(year, 1, 1), end=date(year, 12, 31),
                             reserve_percent="10")
        world = World(category.id, client.id, other_token, client_token, racer_tokens, period.id,
                      [o.id for o in owners], "limits@scale.coop")
        db.session.remove()
        return world


# ------------------------------------------------------------------------------------------------ scenarios


def offered_job(app, world: World, round_no: int) -> int:
    """A job already offered to every racer (more than any fan-out setting allows, so set up directly)."""
    from marketplace.extensions import db
    from marketplace.models import Job, JobEvent, Offer
    from marketplace.models.base import utcnow

    zone = ZoneInfo(app.config["COOP_TIMEZONE"])
    day = datetime.now(zone).date() + timedelta(days=3 + round_no)
    starts = datetime(day.year, day.month, day.day, 9, 0, tzinfo=zone)
    with app.app_context():
        job = Job(client_id=world.client_id, category_id=world.category_id, title=f"Race {round_no}",
                  neighbourhood="Downtown", lat_e6=37_804_400, lng_e6=-122_271_200, starts_at=starts,
                  ends_at=starts + timedelta(hours=2), estimated_minutes=120, status="offered", offer_round=1)
        db.session.add(job)
        db.session.flush()
        db.session.add(JobEvent(job_id=job.id, actor_kind="system", action="offer", from_state="requested",
                                to_state="offered", reason="scale-out check"))
        expires = utcnow() + timedelta(hours=1)
        db.session.add_all(Offer(job_id=job.id, worker_id=w, round=1, rate_cents=2500, distance_m=0,
                                 score_ppm=500_000, expires_at=expires) for w, _ in world.racers)
        db.session.commit()
        job_id = job.id
        db.session.remove()
        return job_id


def accept_race(app, cluster: Cluster, world: World, rounds: int) -> tuple[list[Check], dict]:
    from sqlalchemy import func, select

    from marketplace.extensions import db
    from marketplace.models import Job, JobEvent, Offer

    clean_http = clean_db = 0
    winners_by_server: Counter = Counter()
    answers_by_server: Counter = Counter()
    problems: list[str] = []
    began = time.perf_counter()
    for round_no in range(rounds):
        job_id = offered_job(app, world, round_no)
        calls = []
        for i, (_, token) in enumerate(world.racers):
            url = f"{cluster.urls[i % 2]}/api/v1/jobs/{job_id}/accept"
            calls.append(lambda url=url, token=token: call(url, "POST", headers={"Authorization": f"Bearer {token}"}))
        results = all_at_once(calls)
        statuses = [status for status, _, _ in results]
        for i, status in enumerate(statuses):
            answers_by_server[(i % 2, status)] += 1
        winners = [world.racers[i][0] for i, s in enumerate(statuses) if s == 200]
        if sorted(statuses) == [200] + [409] * (len(statuses) - 1):
            clean_http += 1
            winners_by_server[statuses.index(200) % 2] += 1
        else:
            problems.append(f"round {round_no}: {sorted(Counter(statuses).items())}")
        with app.app_context():
            job = db.session.get(Job, job_id)
            offers = dict(db.session.execute(select(Offer.status, func.count()).where(Offer.job_id == job_id)
                                             .group_by(Offer.status)).all())
            accepts = db.session.scalar(select(func.count()).select_from(JobEvent).where(
                JobEvent.job_id == job_id, JobEvent.action == "accept"))
            if (job.status == "accepted" and winners == [job.worker_id] and offers.get("accepted") == 1
                    and accepts == 1):
                clean_db += 1
            else:
                problems.append(f"round {round_no}: job {job.status} worker {job.worker_id}, offers {offers}, "
                                f"accept events {accepts}")
            db.session.remove()
    seconds = time.perf_counter() - began
    n = len(world.racers)
    checks = [
        Check("concurrent accept", f"{n} simultaneous accepts over 2 servers: one 200, {n - 1} × 409",
              f"{rounds}/{rounds} rounds", f"{clean_http}/{rounds} rounds", clean_http == rounds),
        Check("concurrent accept", "the database shows one worker, one accepted offer, one accept event",
              f"{rounds}/{rounds} rounds", f"{clean_db}/{rounds} rounds", clean_db == rounds),
        Check("concurrent accept", "both servers answered (409s and winners on each)", "yes",
              f"server 1: {answers_by_server[(0, 409)]} × 409, {winners_by_server[0]} wins; "
              f"server 2: {answers_by_server[(1, 409)]} × 409, {winners_by_server[1]} wins",
              answers_by_server[(0, 409)] > 0 and answers_by_server[(1, 409)] > 0),
    ]
    return checks, {"seconds": seconds, "problems": problems}


def dividend_race(app, cluster: Cluster, world: World) -> tuple[list[Check], dict]:
    from sqlalchemy import func, select

    from marketplace import dispatch
    from marketplace.extensions import db
    from marketplace.models import Allocation, AuditEvent, DividendRun, JournalEntry
    from marketplace.services.dividend_run import SOURCE_TYPE

    preview = f"/treasury/dividends/periods/{world.period_id}/preview"
    admins = [Browser(url).log_in("admin@scale.coop") for url in cluster.urls]
    treasurers = [Browser(url).log_in("treasurer@scale.coop") for url in cluster.urls]

    def presses(people: list[Browser], action: str, count: int = 8) -> list:
        tokens = [person.csrf(preview) for person in people]
        path = f"/treasury/dividends/periods/{world.period_id}/{action}"
        return all_at_once([lambda p=people[i % 2], t=tokens[i % 2]: p.post(path, {"csrf_token": t})
                            for i in range(count)])

    approvals = presses(admins, "approve")
    began = time.perf_counter()
    starts = presses(treasurers, "run")
    started = [headers.get("Location", "") for status, headers, _ in starts if status == 302]
    to_run_page = [loc for loc in started if "/treasury/dividends/runs/" in loc]

    def audit_count(action: str) -> int:
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))

    with app.app_context():
        runs = db.session.scalars(select(DividendRun).where(DividendRun.period_id == world.period_id)).all()
        run_id = runs[0].id if runs else None
        if run_id is not None:  # the same task sent four more times, for both workers to race over
            for _ in range(4):
                app.extensions["celery"].send_task(dispatch.RUN_DIVIDENDS, args=[run_id])
        db.session.remove()

    final = None
    deadline = time.monotonic() + 600
    while run_id is not None and time.monotonic() < deadline:
        with app.app_context():
            final = db.session.get(DividendRun, run_id)
            state = final.status
            db.session.expunge_all()
            db.session.remove()
        if state in ("completed", "failed"):
            break
        time.sleep(0.5)
    seconds = time.perf_counter() - began

    with app.app_context():
        allocations = db.session.execute(select(func.count(), func.count(func.distinct(Allocation.member_id)),
                                                func.coalesce(func.sum(Allocation.allocation_cents), 0))
                                         .where(Allocation.run_id == run_id)).one() if run_id else (0, 0, 0)
        entries = db.session.execute(select(func.count(), func.count(func.distinct(JournalEntry.idempotency_key)))
                                     .where(JournalEntry.source_type == SOURCE_TYPE,
                                            JournalEntry.source_id == run_id)).one() if run_id else (0, 0)
        audits = {a: audit_count(a) for a in ("dividend.approved", "dividend.started", "dividend.completed")}
        db.session.remove()
    verify = subprocess.run([sys.executable, "-m", "flask", "--app", "marketplace", "ledger", "verify"], cwd=ROOT,
                            env=cluster.env, capture_output=True, text=True, timeout=300)
    task_log = {}
    for n, (_, log) in enumerate(cluster.workers, start=1):
        text = log.read_text(errors="replace")
        received = len(re.findall(r"Task treasury\.run_dividends\[[^\]]+\] received", text))
        outcomes = Counter(re.findall(r"Task treasury\.run_dividends\[[^\]]+\] (?:succeeded in [\d.]+s: '(\w+)'"
                                      r"|(retry))", text))
        task_log[f"worker {n}"] = {"received": received,
                                   "outcomes": {(a or b): c for (a, b), c in outcomes.items()}}
    # The worker that carries a run out logs its phases ("dividend run N: … members; snapshot …"); one line in all.
    executed_by = [f"worker {n}" for n, (_, log) in enumerate(cluster.workers, start=1)
                   for _ in re.findall(rf"dividend run {run_id}: \d+ members;", log.read_text(errors="replace"))]
    status = final.status if final else "no run"
    members = len(world.member_ids)
    checks = [
        Check("dividend run", "8 simultaneous approvals (both servers) make one run", "1 run, 1 approval logged",
              f"{len(runs)} run, {audits['dividend.approved']} approval logged",
              len(runs) == 1 and audits["dividend.approved"] == 1),
        Check("dividend run", "8 simultaneous Run presses (both servers) start it once", "1 started",
              f"{len(to_run_page)} started, {len(started) - len(to_run_page)} refused, "
              f"{audits['dividend.started']} start logged",
              len(to_run_page) == 1 and audits["dividend.started"] == 1 and len(started) == len(starts)),
        Check("dividend run", "5 deliveries of the task over 2 workers execute it once",
              "completed, 1 claim, 1 execution", f"{status}, {final.attempts if final else 0} claim(s), "
              f"{len(executed_by)} execution ({', '.join(executed_by) or 'none'}) of "
              f"{sum(info['received'] for info in task_log.values())} deliveries, "
              f"{audits['dividend.completed']} completion logged",
              status == "completed" and final.attempts == 1 and len(executed_by) == 1
              and audits["dividend.completed"] == 1),
        Check("dividend run", "allocations posted once, one per member", f"{members} rows = {members} members",
              f"{allocations[0]} rows, {allocations[1]} members, {entries[0]} ledger entries",
              allocations[0] == allocations[1] == members == (final.members_total if final else -1)
              and allocations[2] == (final.allocated_cents if final else -1) and entries[0] == entries[1] > 0),
        Check("dividend run", "`flask ledger verify`", "exit 0", f"exit {verify.returncode}: "
              f"{(verify.stdout.strip().splitlines() or [''])[-1]}", verify.returncode == 0),
    ]
    info = {"seconds": seconds, "tasks": task_log, "executed_by": executed_by,
            "approval_answers": Counter(s for s, _, _ in approvals)}
    return checks, info


def configured_amount(app, name: str) -> tuple[int, str]:
    """The first (tightest-window) amount of a limit setting, as the servers read it."""
    from limits import parse_many

    value = app.config[name]
    return min(parse_many(value), key=lambda item: item.get_expiry()).amount, value


def shared_limits(app, cluster: Cluster, world: World) -> tuple[list[Check], dict]:
    from sqlalchemy import func, select

    from marketplace.extensions import db
    from marketplace.models import Job

    token_limit, token_setting = configured_amount(app, "RATELIMIT_API_TOKEN")
    post_limit, post_setting = configured_amount(app, "RATELIMIT_JOB_POSTING")

    token_answers = token_hammer(cluster.urls, world.limit_email)
    granted = sum(1 for s, _, _ in token_answers if s == 201)
    refused = [(s, h) for s, h, _ in token_answers if s == 429]
    with_retry_after = sum(1 for _, h in refused if int(h.get("Retry-After", "0")) > 0)

    zone = ZoneInfo(app.config["COOP_TIMEZONE"])
    start = (datetime.now(zone) + timedelta(days=20)).replace(hour=10, minute=0, second=0, microsecond=0)

    def job(title: str) -> dict:
        return {"category": "scale-out", "title": title, "description": "", "lat": 37.8044, "lng": -122.2712,
                "address": "1 Main Street", "starts_at": start.isoformat(), "hours": 2, "max_rate_cents": 3000}

    post_answers = all_at_once([
        lambda i=i: call(f"{cluster.urls[i % 2]}/api/v1/jobs", "POST", body=job(f"Limit check {i}"),
                         headers={"Authorization": f"Bearer {world.client_token}"})
        for i in range(SIMULTANEOUS)])
    posted = sum(1 for s, _, _ in post_answers if s == 201)
    post_refused = sum(1 for s, _, _ in post_answers if s == 429)
    other = call(f"{cluster.urls[1]}/api/v1/jobs", "POST", body=job("Another client"),
                 headers={"Authorization": f"Bearer {world.other_client_token}"})
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(Job).where(
            Job.client_id == world.client_id, Job.title.like("Limit check %")))
        db.session.remove()
    checks = [
        Check("shared limits", f"{SIMULTANEOUS} simultaneous token requests, one address, 2 servers "
              f"(`{token_setting}`)", f"{token_limit} × 201, {SIMULTANEOUS - token_limit} × 429",
              f"{granted} × 201, {len(refused)} × 429 ({with_retry_after} with Retry-After)",
              granted == token_limit and len(refused) == SIMULTANEOUS - token_limit
              and with_retry_after == len(refused)),
        Check("shared limits", f"{SIMULTANEOUS} simultaneous job posts, one client, 2 servers (`{post_setting}`)",
              f"{post_limit} × 201, {SIMULTANEOUS - post_limit} × 429, {post_limit} jobs stored",
              f"{posted} × 201, {post_refused} × 429, {stored} jobs stored",
              posted == post_limit == stored and post_refused == SIMULTANEOUS - post_limit),
        Check("shared limits", "another client may still post", "201", str(other[0]), other[0] == 201),
    ]
    statuses = {"tokens": Counter(s for s, _, _ in token_answers), "posts": Counter(s for s, _, _ in post_answers)}
    return checks, statuses


def token_hammer(urls: list[str], email: str) -> list:
    return all_at_once([lambda i=i: call(f"{urls[i % 2]}/api/v1/auth/tokens", "POST",
                                         body={"email": email, "password": PASSWORD})
                        for i in range(SIMULTANEOUS)])


def memory_control(app, cluster: Cluster, world: World) -> list[Check]:
    """The token check again on two fresh servers that count in their own memory: it must see more than the
    limit get through, or it could not tell shared counting from none."""
    token_limit, _ = configured_amount(app, "RATELIMIT_API_TOKEN")
    env = {**cluster.env, "RATELIMIT_STORAGE_URI": "memory://"}
    servers = []
    try:
        for n in (1, 2):
            proc, url = start_server(env, cluster.workdir / f"control{n}.log")
            servers.append((proc, url))
        answers = token_hammer([url for _, url in servers], world.limit_email)
    finally:
        for proc, _ in servers:
            support.stop_process(proc, timeout=20)
    granted = sum(1 for s, _, _ in answers if s == 201)
    return [Check("shared limits", "control: the same token requests with per-process counters "
                  "(`RATELIMIT_STORAGE_URI=memory://`)", f"more than {token_limit} × 201 (the check can tell)",
                  f"{granted} × 201", granted > token_limit)]


# ------------------------------------------------------------------------------------------------ main


def remove_redis_keys(redis_url: str, prefix: str) -> int:
    import redis

    conn = redis.Redis.from_url(redis_url)
    keys = list(conn.scan_iter(match=f"{prefix}*", count=1000))
    for start in range(0, len(keys), 500):
        conn.delete(*keys[start:start + 500])
    return len(keys)


def table(checks: list[Check]) -> str:
    lines = ["| scenario | guarantee | expected | observed | holds |", "|---|---|---|---|---|"]
    lines += [f"| {c.scenario} | {c.guarantee} | {c.expected} | {c.observed} | {'yes' if c.ok else '**NO**'} |"
              for c in checks]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="concurrent-accept rounds (default 10)")
    parser.add_argument("--racers", type=int, default=50, help="workers accepting each job at once (default 50)")
    parser.add_argument("--members", type=int, default=200, help="members in the dividend run (default 200)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the process logs")
    args = parser.parse_args()

    pg = os.environ.get("BENCH_DATABASE_URL", PG_DEFAULT)
    redis_url = os.environ.get("BENCH_REDIS_URL", REDIS_DEFAULT)
    prefix = f"scaleout-{secrets.token_hex(4)}"
    workdir = Path(tempfile.mkdtemp(prefix="scale-out-"))
    os.environ["INSTANCE_PATH"] = str(workdir / "instance-bench")
    from marketplace import create_app

    began = time.perf_counter()
    db_url = support.create_postgres_database(pg)
    cluster: Cluster | None = None
    checks: list[Check] = []
    notes: dict = {}
    app = None
    try:
        support.migrate_database(db_url)
        env = cluster_env(db_url, redis_url, prefix, workdir / "instance")
        # The bench's own app: the same database and broker namespace, the servers' limit settings.
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": db_url})
        app.extensions["celery"].conf.update(
            broker_url=redis_url, result_backend=redis_url,
            broker_transport_options={"visibility_timeout": 3600, "global_keyprefix": f"{prefix}:"})
        world = build_world(app, args.racers, args.members)
        cluster = start_cluster(workdir, env)
        print(f"servers {', '.join(cluster.urls)}; 2 celery workers; database {db_url.rsplit('/', 1)[-1]}; "
              f"Redis {redis_url} under '{prefix}'", flush=True)
        found, notes["accept"] = accept_race(app, cluster, world, args.rounds)
        checks += found
        print(table(found), flush=True)
        found, notes["dividend"] = dividend_race(app, cluster, world)
        checks += found
        print(table(found), flush=True)
        found, notes["limits"] = shared_limits(app, cluster, world)
        found += memory_control(app, cluster, world)
        checks += found
        print(table(found), flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
        if app is not None:
            with app.app_context():
                from marketplace.extensions import db

                db.engine.dispose()
        removed = remove_redis_keys(redis_url, prefix)
        if not args.keep:
            support.drop_postgres_database(db_url)
        failed = not checks or not all(c.ok for c in checks)
        if args.keep or failed:
            print(f"logs kept in {workdir}" + (f"; database kept: {db_url}" if args.keep else ""))
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"Scale-out check, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}: {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; {time.perf_counter() - began:.0f} s in all; "
          f"{removed} Redis keys removed")
    print(f"accept: {args.rounds} rounds in {notes['accept']['seconds']:.1f} s" if "accept" in notes else "")
    for problem in notes.get("accept", {}).get("problems", [])[:10]:
        print("  ", problem)
    if "dividend" in notes:
        info = notes["dividend"]
        print(f"dividend: Run → completed {info['seconds']:.1f} s; executed by {', '.join(info['executed_by'])}; "
              f"task deliveries {json.dumps(info['tasks'])}")
    if "limits" in notes:
        print(f"limits: token answers {dict(notes['limits']['tokens'])}, post answers {dict(notes['limits']['posts'])}")
    print()
    print(table(checks))
    return 0 if checks and all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
