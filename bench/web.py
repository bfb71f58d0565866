"""Benchmark: HTTP throughput and latency of gunicorn on PostgreSQL, with wrk, against /healthz in the same run.

    .venv/bin/python bench/web.py [--duration 15] [--rounds 3] [--connections 16] [--open-jobs 300]
                                  [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                  [--redis redis://127.0.0.1:6379/11] [--workers N] [--threads N]

Set-up, as a deploy would do it: a new PostgreSQL database on the ``--postgres`` server, ``flask db upgrade heads``,
``flask seed-demo``, then ``--open-jobs`` job requests posted through the jobs service (the real ``post_job``,
offers and all) in the demo worker's services and area, plus as many outside them, and ``VACUUM ANALYZE`` (what
autovacuum does soon after a bulk load; without it the planner still believes the tables are tiny). gunicorn serves
``wsgi:app`` with the project's ``gunicorn.conf.py`` and a production environment (``APP_ENV=production``, a random
``SECRET_KEY``, ``DATABASE_URL``, ``REDIS_URL``); two documented settings are relaxed for a plain-HTTP, single-client
load test: ``SESSION_COOKIE_SECURE=false`` (no TLS on localhost) and ``RATELIMIT_ENABLED=false`` (one address sends
every request). Workers and threads are gunicorn.conf.py's defaults (CPU count x 2 + 1 processes, 4 threads each)
unless ``--workers`` / ``--threads`` are given (passed as WEB_CONCURRENCY / WEB_THREADS). Worker recycling
(``max_requests``) is switched off for the run with ``--max-requests 0``: at /healthz's rate every worker would
be replaced every few seconds, and each replacement's start-up (about 2 s of CPU) would land on whichever URL
happens to be measured next.

The demo worker logs in through the real login form (CSRF token and all) and asks for an API token
(POST /api/v1/auth/tokens). Each URL is checked once by hand (a 200 with the expected content), then measured with
``wrk -t2 -c<connections> -d<duration>s --latency`` and a Lua script that counts every response other than
200 (a redirect to /login would otherwise pass as a success). URLs are measured round-robin, ``--rounds`` times,
after a short warm-up; the medians of the rounds are reported. Exit code 1 when a target is missed or any response
was not a 200.

Targets (the open-requests list): throughput >= 0.35x /healthz's, p99 <= 50 ms at 16 connections.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import math
import os
import platform
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import support  # noqa: E402
from config import normalise_database_url  # noqa: E402

DEMO_PASSWORD = "coop-demo-2026"  # noqa: S105 - the published demo password
DEFAULT_WORKER = "worker02@demo.coop"
TARGET_RATIO = 0.35
TARGET_P99_MS = 50.0
WARMUP_SECONDS = 3

# Counts every response that is not a 200 across wrk's threads, and prints wrk's own figures as one JSON line.
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_ok = 0 end
function response(status, headers, body) if status ~= 200 then not_ok = not_ok + 1 end end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("not_ok") end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "not_200": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\\n',
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL server URL; a temporary database is created on it and dropped after")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"),
                        help="REDIS_URL for the app (Celery broker; nothing is consumed during the run)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk measurement")
    parser.add_argument("--rounds", type=int, default=3, help="round-robin passes over the URLs; medians reported")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--open-jobs", type=int, default=300,
                        help="open requests in the worker's services and area (as many again outside them)")
    parser.add_argument("--worker", default=DEFAULT_WORKER, help="the demo worker who browses")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn processes (default: gunicorn.conf.py)")
    parser.add_argument("--threads", type=int, default=None, help="threads per process (default: gunicorn.conf.py)")
    parser.add_argument("--no-page-cache", action="store_true",
                        help="turn the rendered-page cache off (PAGE_CACHE_URL empty) to measure pages rendered "
                             "on every request")
    parser.add_argument("--posts-per-second", type=float, default=1.0,
                        help="also measure the list while this many job requests a second are posted in the "
                             "worker's area (writes that retire cached copies); 0 leaves that row out")
    parser.add_argument("--keep", action="store_true", help="leave the database and server log in place")
    args = parser.parse_args(argv)
    if min(args.duration, args.rounds, args.connections, args.wrk_threads) < 1 or args.open_jobs < 0:
        parser.error("--duration, --rounds, --connections and --wrk-threads must be positive")
    if not 0 <= args.posts_per_second <= 50:
        parser.error("--posts-per-second must be between 0 and 50")
    if not shutil.which("wrk"):
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    return args


# --- set-up ---------------------------------------------------------------------------------------------------


def app_env(db_url: str, redis_url: str, instance: Path, args) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "WEB_", "GUNICORN_"))}
    env.update({
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "INSTANCE_PATH": str(instance),
        "PYTHONPATH": str(ROOT),
        "SESSION_COOKIE_SECURE": "false",
        "RATELIMIT_ENABLED": "false",
    })
    for key in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "RATELIMIT_STORAGE_URI"):
        env.pop(key, None)
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    if args.threads:
        env["WEB_THREADS"] = str(args.threads)
    if args.no_page_cache:
        env["PAGE_CACHE_URL"] = ""
    return env


class JobPoster:
    """Posts job requests through ``jobs.post_job`` (offers and all) as the demo clients would: inside the worker's
    services and area, or in other services or beyond it. Celery tasks the posts enqueue go to an in-memory broker
    (no worker consumes them during the benchmark anyway). With ``page_cache_url`` its commits raise the page
    cache's table versions as any process of the deployment does."""

    def __init__(self, db_url: str, worker_email: str, seed: int = 11, page_cache_url: str = ""):
        from sqlalchemy import select

        from marketplace import create_app
        from marketplace.extensions import db
        from marketplace.models import ServiceCategory, User, UserRole, WorkerProfile

        self.app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": db_url, "PAGE_CACHE_URL": page_cache_url,
                                          "CELERY": {"broker_url": "memory://", "result_backend": "cache+memory://",
                                                     "task_ignore_result": True}})
        self.rng = random.Random(seed)
        self.count = 0
        with self.app.app_context():
            worker = db.session.scalar(select(User).where(User.email == worker_email))
            profile = db.session.get(WorkerProfile, worker.id)
            self.own = sorted(s.category.slug for s in profile.services)
            self.floors = {c.slug: c.rate_floor_cents for c in db.session.scalars(select(ServiceCategory))
                           if c.is_active}
            self.others = sorted(set(self.floors) - set(self.own))
            self.clients = list(db.session.scalars(
                select(User.id).join(UserRole, UserRole.user_id == User.id).where(UserRole.role == "client")
                .order_by(User.id)))
            self.home = (profile.lat_e6 / 1e6, profile.lng_e6 / 1e6)
            self.radius_km = profile.radius_km
            db.session.remove()
        self.start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)

    def _place(self, max_km: float, min_km: float = 0.0) -> tuple[float, float]:
        distance = self.rng.uniform(min_km, max_km)
        bearing = self.rng.uniform(0, 2 * math.pi)
        lat, lng = self.home
        return (lat + distance * math.cos(bearing) / 111.32,
                lng + distance * math.sin(bearing) / (111.32 * math.cos(math.radians(lat))))

    def post(self, inside: bool) -> None:
        """One job, in an app context the caller holds."""
        from marketplace.services import jobs

        i = self.count
        self.count += 1
        if inside:
            category, (lat, lng) = self.rng.choice(self.own), self._place(0.8 * self.radius_km)
        elif self.others and i % 4 == 1:
            category, (lat, lng) = self.rng.choice(self.others), self._place(0.8 * self.radius_km)
        else:
            category, (lat, lng) = self.rng.choice(self.own), self._place(self.radius_km + 20, self.radius_km + 3)
        starts_at = self.start + timedelta(days=self.rng.randrange(56), hours=self.rng.randrange(8, 18))
        cap = self.rng.choice([None, self.floors[category] * 2])
        jobs.post_job(self.clients[i % len(self.clients)], category=category, title=f"{category.title()} job {i + 1}",
                      description="Posted by the web benchmark.", lat=lat, lng=lng, starts_at=starts_at, hours="2",
                      max_rate_cents=cap)

    def close(self) -> None:
        from marketplace.extensions import db

        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


def post_open_jobs(db_url: str, worker_email: str, count: int) -> dict:
    """``count`` job requests in the worker's services and area over the next eight weeks, as many again elsewhere."""
    poster = JobPoster(db_url, worker_email)
    with poster.app.app_context():
        for i in range(2 * count):
            poster.post(inside=i % 2 == 0)
    poster.close()
    return {"in_area": count, "elsewhere": count}


class BackgroundPosts:
    """While a measurement runs: one job request in the worker's area every ``1 / per_second`` seconds, from
    another process's point of view (its own app and database connections), so the page cache sees real writes."""

    def __init__(self, poster: JobPoster, per_second: float):
        import threading

        self.poster, self.interval = poster, 1.0 / per_second
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.posted = 0

    def _run(self) -> None:
        with self.poster.app.app_context():
            while not self.stop.wait(self.interval):
                self.poster.post(inside=True)
                self.posted += 1

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def analyze(db_url: str) -> None:
    """VACUUM ANALYZE, as autovacuum would soon after a bulk load: the planner needs the new row counts."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def start_server(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    """gunicorn with the project's gunicorn.conf.py, bound to loopback on a free port (no worker recycling)."""
    server = support.start_gunicorn(env, log_path, options=("-c", str(ROOT / "gunicorn.conf.py"),
                                                            "--max-requests", "0"))
    return server.proc, server.url


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


USER_AGENT = "coop-bench/1.0 (wrk)"


def sign_in(base: str, email: str) -> tuple[str, str]:
    """Log in through the form (CSRF token from the page) and get an API token; returns (Cookie header, token)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    # One browser: the login and every measured request send the same User-Agent, or Flask-Login's session
    # protection would see another browser on each request and rewrite the session cookie every time.
    opener.addheaders = [("User-Agent", USER_AGENT)]
    with opener.open(base + "/login", timeout=10) as resp:
        page = resp.read().decode()
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if not match:
        raise RuntimeError("no CSRF token on the login page")
    form = urllib.parse.urlencode({"csrf_token": match.group(1), "email": email, "password": DEMO_PASSWORD}).encode()
    try:
        opener.open(base + "/login", data=form, timeout=30)
        raise RuntimeError("login did not redirect: wrong password or form error")
    except urllib.error.HTTPError as exc:
        if exc.code != 302:
            raise RuntimeError(f"login answered {exc.code}") from exc
    # A browser follows the redirect and reads the welcome message there; the cookie wrk sends must not carry
    # that unread message, or every measured page would show it (and no page with a message is cached).
    with opener.open(base + "/dashboard", timeout=30) as resp:
        resp.read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    if "session=" not in cookie:
        raise RuntimeError("no session cookie after login")
    body = json.dumps({"email": email, "password": DEMO_PASSWORD}).encode()
    request = urllib.request.Request(base + "/api/v1/auth/tokens", data=body,  # noqa: S310 - loopback
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 - loopback
        token = json.loads(resp.read())["token"]
    return cookie, token


def fetch(url: str, headers: dict[str, str]) -> tuple[int, str]:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers}),
                         timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def page_cache_state(base: str, cookie: str) -> str:
    """What the X-Page-Cache header of a repeated view of the list says (``hit`` once a copy is stored)."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(base + "/work/requests", headers={"Cookie": cookie, "User-Agent": USER_AGENT})
    states = []
    for _ in range(3):
        with opener.open(request, timeout=30) as resp:
            resp.read()
            states.append(resp.headers.get("X-Page-Cache", "absent"))
    return ", ".join(states)


LIST_LABEL = "open requests, page 1 (HTML, signed in)"


@dataclass(frozen=True)
class Target:
    label: str
    path: str
    headers: dict
    posts_per_second: float = 0.0  # job requests posted in the worker's area while this is measured


def check_targets(base: str, cookie: str, token: str, expect_open: int) -> list[tuple[str, str, dict[str, str]]]:
    """The three URLs with their headers, each checked once: a 200 with the content a person would see."""
    status, body = fetch(base + "/healthz", {})
    if status != 200 or '"ok"' not in body:
        raise RuntimeError(f"/healthz: {status}")
    web = {"Cookie": cookie}
    status, body = fetch(base + "/work/requests", web)
    rows = re.findall(r'href="/gigs/(\d+)"', body)
    total = re.search(r"<caption>(\d+) open request", body)
    if status != 200 or len(rows) != 20 or not total or int(total.group(1)) < expect_open \
            or 'class="flash' in body:
        raise RuntimeError(f"/work/requests: status {status}, {len(rows)} rows, caption {total and total.group(0)}")
    job_id = int(rows[0])
    api = {"Authorization": f"Bearer {token}"}
    status, body = fetch(f"{base}/api/v1/jobs/{job_id}", api)
    if status != 200 or json.loads(body).get("id") != job_id:
        raise RuntimeError(f"/api/v1/jobs/{job_id}: {status} {body[:200]}")
    print(f"open requests for the worker: {total.group(1)} ({math.ceil(int(total.group(1)) / 20)} pages of 20)")
    return [Target("/healthz", "/healthz", {}),
            Target(LIST_LABEL, "/work/requests", web),
            Target("GET /api/v1/jobs/{id} (bearer token)", f"/api/v1/jobs/{job_id}", api)]


# --- measuring ------------------------------------------------------------------------------------------------


def run_wrk(url: str, headers: dict[str, str], script: Path, args, duration: int) -> dict:
    cmd = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{duration}s", "--latency", "-s", str(script)]
    for name, value in {"User-Agent": USER_AGENT, **headers}.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError("wrk printed no figures:\n" + out)
    figures = json.loads(line[len("WRK_JSON "):])
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    figures["rps"] = float(rate.group(1)) if rate else figures["requests"] / (figures["duration_us"] / 1e6)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    figures["non_2xx_3xx"] = int(non2xx.group(1)) if non2xx else 0
    figures["socket_errors"] = sum(figures[k] for k in ("connect", "read", "write", "timeout"))
    return figures


def measure(base: str, targets, args, poster: JobPoster | None) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {t.label: [] for t in targets}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(WRK_SCRIPT)
        script = Path(handle.name)
    try:
        for t in targets:
            if not t.posts_per_second:
                run_wrk(base + t.path, t.headers, script, args, WARMUP_SECONDS)
        for round_no in range(1, args.rounds + 1):
            for t in targets:
                if t.posts_per_second:
                    with BackgroundPosts(poster, t.posts_per_second) as posts:
                        figures = run_wrk(base + t.path, t.headers, script, args, args.duration)
                    figures["posted"] = posts.posted
                else:
                    figures = run_wrk(base + t.path, t.headers, script, args, args.duration)
                results[t.label].append(figures)
                print(f"  round {round_no}: {t.label}: {figures['rps']:.0f} req/s, "
                      f"p50 {figures['p50_us'] / 1000:.1f} ms, p99 {figures['p99_us'] / 1000:.1f} ms, "
                      f"not 200: {figures['not_200']}, socket errors: {figures['socket_errors']}", flush=True)
    finally:
        script.unlink()
    return results


def summarise(targets, results) -> tuple[str, bool]:
    """The markdown table (medians of the rounds) and whether every target was met and every response a 200.
    Socket errors (connections the server closed or timed out) are shown; timeouts also show in p99."""
    def median(label, key):
        return statistics.median(r[key] for r in results[label])

    base_rps = median("/healthz", "rps")
    lines = ["| URL | req/s | p50 | p90 | p99 | ratio to /healthz | not 200 | socket errors | target |",
             "|---|---|---|---|---|---|---|---|---|"]
    ok = True
    for t in targets:
        label = t.label
        rps, p99 = median(label, "rps"), median(label, "p99_us") / 1000
        bad = sum(max(r["not_200"], r["non_2xx_3xx"]) for r in results[label])
        sockets = sum(r["socket_errors"] for r in results[label])
        ratio = rps / base_rps
        verdict = "baseline" if t.path == "/healthz" else "reported"
        if t.posts_per_second:
            posted = sum(r["posted"] for r in results[label])
            verdict += f" ({posted} jobs posted during the {len(results[label])} measurements)"
        if label == LIST_LABEL:
            passed = ratio >= TARGET_RATIO and p99 <= TARGET_P99_MS
            verdict = (f"ratio ≥ {TARGET_RATIO}: **{'PASS' if ratio >= TARGET_RATIO else 'FAIL'}**; "
                       f"p99 ≤ {TARGET_P99_MS:.0f} ms: **{'PASS' if p99 <= TARGET_P99_MS else 'FAIL'}**")
            ok = ok and passed
        if bad:
            verdict += " — **FAIL: responses other than 200**"
            ok = False
        lines.append(f"| {label} | {rps:,.0f} | {median(label, 'p50_us') / 1000:.1f} ms | "
                     f"{median(label, 'p90_us') / 1000:.1f} ms | {p99:.1f} ms | {ratio:.2f}× | {bad} | {sockets} | "
                     f"{verdict} |")
    return "\n".join(lines), ok


def main(argv=None) -> int:
    args = parse_args(argv)
    server_url = normalise_database_url(args.postgres)
    work = Path(tempfile.mkdtemp(prefix="web-bench-"))
    db_url = support.create_postgres_database(server_url)
    proc = None
    try:
        env = app_env(db_url, args.redis, work / "instance", args)
        started = time.monotonic()
        support.run_flask(env, "db", "upgrade", "heads")
        support.run_flask(env, "seed-demo")
        posted = post_open_jobs(db_url, args.worker, args.open_jobs)
        analyze(db_url)
        print(f"database ready in {time.monotonic() - started:.0f} s: demo co-op + {posted['in_area']} open requests "
              f"in {args.worker}'s services and area, {posted['elsewhere']} elsewhere")
        proc, base = start_server(env, work / "gunicorn.log")
        cookie, token = sign_in(base, args.worker)
        targets = check_targets(base, cookie, token, args.open_jobs)
        poster = None
        if args.posts_per_second:
            targets.insert(2, Target(f"the same list while {args.posts_per_second:g} job requests a second are "
                                     f"posted in the worker's area", "/work/requests", targets[1].headers,
                                     args.posts_per_second))
            poster = JobPoster(db_url, args.worker, seed=12,
                               page_cache_url="" if args.no_page_cache else args.redis)
        workers = env.get("WEB_CONCURRENCY") or f"{os.cpu_count() * 2 + 1} (CPU count × 2 + 1)"
        threads = env.get("WEB_THREADS") or "4"
        print(f"gunicorn: {workers} workers × {threads} threads (gthread); wrk -t{args.wrk_threads} "
              f"-c{args.connections} -d{args.duration}s --latency, {args.rounds} rounds")
        print("rendered-page cache: " + ("off (--no-page-cache)" if args.no_page_cache
                                          else f"on (PAGE_CACHE_URL = REDIS_URL), list answered with X-Page-Cache: "
                                               f"{page_cache_state(base, cookie)}"))
        results = measure(base, targets, args, poster)
        if poster is not None:
            poster.close()
        table, ok = summarise(targets, results)
        print()
        print(f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs visible, load average "
              f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())}; Python {platform.python_version()}")
        print(table)
        print("\nresult:", "all targets met" if ok else "a target was missed")
        return 0 if ok else 1
    finally:
        if proc is not None:
            support.stop_process(proc)
        if args.keep:
            print(f"kept: database {db_url}, log {work / 'gunicorn.log'}")
        else:
            support.drop_postgres_database(db_url)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
