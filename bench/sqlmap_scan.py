"""SQL injection scan: sqlmap over the GET parameters of the search and listing pages and of the API's list endpoints.

    .venv/bin/python bench/sqlmap_scan.py [--database postgresql|sqlite] [--level 3] [--risk 2] [--only SUBSTRING]
                                          [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Starts the app as production runs it: a new database (PostgreSQL by default, on the ``--postgres`` server, dropped
afterwards; or a SQLite file), ``flask db upgrade heads``, ``flask seed-demo``, then gunicorn with the project's
gunicorn.conf.py, ``APP_ENV=production`` and rate limits on. Only ``SESSION_COOKIE_SECURE=false`` is relaxed (plain
HTTP on loopback). The demo client, worker-owner and treasurer log in through the real login form (CSRF token
and all); the worker-owner and the treasurer also get API tokens.

Each target URL is first fetched once (it must answer 200 to the signed-in user, so the scan does not test a
login redirect), then ``sqlmap --batch --level L --risk R --dbms <the database> -p <its parameters>`` runs against
it with the user's session cookie or bearer token (``--dbms`` names the real back end: no payload is spent on other
databases, and a heuristic guess from a changing page cannot narrow the tests to a wrong one). The verdict of
each parameter is read from sqlmap's output, and the server's access log for the number of requests sqlmap sent
and the status codes they got: any 5xx fails the scan, as would any parameter sqlmap reports injectable. Before
sqlmap, each parameter also gets values sqlmap does not send (numbers beyond the database's integers, ``-1``,
``0``, "²", ``%``, a quote), which must not give a 5xx either. Exit code 0 only when every parameter was tested
and found not injectable and no request got a 5xx.
Needs the Debian package ``sqlmap``.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import support  # noqa: E402
from bench import web  # noqa: E402
from config import normalise_database_url  # noqa: E402

CLIENT, WORKER, TREASURER = "client@demo.coop", "member@demo.coop", "treasurer@demo.coop"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"))
    parser.add_argument("--level", type=int, default=3, choices=range(1, 6))
    parser.add_argument("--risk", type=int, default=2, choices=range(1, 4))
    parser.add_argument("--only", default=None, help="scan only the targets whose path contains this")
    parser.add_argument("--keep", action="store_true", help="keep the database, server log and sqlmap output")
    args = parser.parse_args(argv)
    if not shutil.which("sqlmap"):
        parser.error("sqlmap is not installed (Debian: apt-get install sqlmap)")
    return args


def targets(ids: dict) -> list[dict]:
    """Every GET endpoint that reads query parameters (found from ``app.url_map`` and ``request.args`` in the
    views), with realistic values, the user who may open it and the parameters to test."""
    today = date.today()
    first = today.replace(month=1, day=1).isoformat()
    soon = (today + timedelta(days=7)).isoformat()
    web_pages = [
        (CLIENT, "/workers/", {"category": "house-cleaning", "neighbourhood": "Temescal", "min_rating": "4",
                               "date": soon, "page": "1"}),
        (WORKER, "/work/requests", {"page": "1"}),
        (WORKER, "/work/", {"week": "0"}),
        (CLIENT, "/jobs/", {"page": "1"}),
        (CLIENT, "/jobs/new", {"category": "house-cleaning", "invite": str(ids["worker_id"])}),
        (WORKER, "/books/open", {"period": str(ids["period_id"]), "q": "Rosa", "page": "1"}),
        (TREASURER, "/board/members/", {"status": "member", "q": "demo"}),
        (TREASURER, "/treasury/books/expenses", {"start": first, "end": today.isoformat(), "page": "1"}),
        (TREASURER, "/treasury/books/income", {"start": first, "end": today.isoformat(), "page": "1"}),
        (TREASURER, "/treasury/reports/income-statement", {"start": first, "end": today.isoformat()}),
        (TREASURER, "/treasury/reports/balance-sheet", {"as_of": today.isoformat()}),
        (TREASURER, "/treasury/reports/trial-balance", {"as_of": today.isoformat()}),
        (TREASURER, "/treasury/reports/earnings", {"start": first, "end": today.isoformat(),
                                                   "worker": str(ids["worker_id"])}),
        (TREASURER, f"/treasury/dividends/runs/{ids['run_id']}", {"q": "demo", "page": "1"}),
        (TREASURER, "/treasury/dividends/1099-patr", {"year": str(ids["patr_year"]), "format": "csv"}),
    ]
    api = [
        (TREASURER, "/api/v1/expenses", {"start": first, "end": today.isoformat(), "page": "1"}),
        (TREASURER, "/api/v1/income", {"start": first, "end": today.isoformat(), "page": "1"}),
        (TREASURER, "/api/v1/reports/income-statement", {"start": first, "end": today.isoformat()}),
        (TREASURER, "/api/v1/reports/balance-sheet", {"as_of": today.isoformat()}),
        (TREASURER, "/api/v1/reports/trial-balance", {"as_of": today.isoformat()}),
        (WORKER, "/api/v1/proposals", {"status": "open"}),
    ]
    return ([{"user": u, "path": p, "params": q, "api": False} for u, p, q in web_pages]
            + [{"user": u, "path": p, "params": q, "api": True} for u, p, q in api])


def demo_ids(db_url: str) -> dict:
    """Ids the target URLs need, from the seeded demo database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        found = {
            "worker_id": conn.execute(text("SELECT id FROM users WHERE email = :e"), {"e": "worker02@demo.coop"})
            .scalar_one(),
            "run_id": conn.execute(text("SELECT id FROM dividend_runs WHERE status = 'completed' ORDER BY id"))
            .scalars().first(),
            "period_id": conn.execute(text("SELECT period_id FROM dividend_runs WHERE status = 'completed' "
                                           "ORDER BY id")).scalars().first(),
        }
    engine.dispose()
    if found["run_id"] is None:
        raise RuntimeError("the demo data has no completed dividend run")
    found["patr_year"] = datetime.now(UTC).year
    return found


EDGE_VALUES = (str(2**31), str(2**63), str(10**30), "-1", "0", "\u00b2", "%", "'")


def edge_statuses(base: str, target: dict, headers: dict[str, str]) -> dict[str, int]:
    """Numbers beyond the database's integers and odd characters in each parameter in turn: the status of every
    such request that is a 5xx (none is expected; bad input must give a 4xx or be ignored)."""
    failures = {}
    for name in target["params"]:
        for value in EDGE_VALUES:
            query = {**target["params"], name: value}
            status, _ = web.fetch(base + target["path"] + "?" + urllib.parse.urlencode(query), headers)
            if status >= 500:
                failures[f"{name}={value}"] = status
    return failures


def access_log_counts(log: Path, offset: int) -> tuple[collections.Counter, int]:
    """Status codes of the access-log lines written since ``offset``; returns them and the new offset."""
    with open(log, "rb") as handle:
        handle.seek(offset)
        chunk = handle.read()
    statuses = collections.Counter(int(m.group(1)) for m in re.finditer(rb'HTTP/1\.[01]" (\d{3}) ', chunk))
    return statuses, offset + len(chunk)


def verdicts(output: str, params: list[str]) -> dict[str, str]:
    """Each parameter's final verdict from sqlmap's output: injectable (an injection point it confirmed and
    reported), not injectable, or not tested. A technique that "appears" to work is not a verdict: sqlmap then
    checks it for a false positive and says which it was."""
    found = {p: "not tested" for p in params}
    for name in params:
        if re.search(rf"parameter '{re.escape(name)}' does not seem to be injectable", output):
            found[name] = "not injectable"
    if "sqlmap identified the following injection point" in output:
        for name in params:
            if re.search(rf"^Parameter: {re.escape(name)} \(", output, re.MULTILINE):
                found[name] = "INJECTABLE"
    return found


def run_sqlmap(base: str, target: dict, auth: dict[str, str], args, out_dir: Path) -> tuple[str, list[str]]:
    url = base + target["path"] + "?" + urllib.parse.urlencode(target["params"])
    cmd = ["sqlmap", "-u", url, "--batch", f"--level={args.level}", f"--risk={args.risk}",
           f"--dbms={'PostgreSQL' if args.database == 'postgresql' else 'SQLite'}",
           "-p", ",".join(target["params"]), "--drop-set-cookie", "--flush-session", "--disable-coloring",
           f"--output-dir={out_dir}", "--threads=4", "--timeout=30", "--retries=2"]
    if target["api"]:
        cmd += ["-H", f"Authorization: Bearer {auth['token']}"]
    else:
        # Pages are compared by their text: the signed CSRF token in every page's forms changes each second.
        cmd += ["--cookie", auth["cookie"], "--text-only"]
    shown = [part if not part.startswith(("session=", "Authorization")) else part.split("=")[0].split(":")[0]
             + ("=…" if part.startswith("session=") else ": Bearer …") for part in cmd]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, stdin=subprocess.DEVNULL)
    return result.stdout + result.stderr, shown


def main(argv=None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="sqlmap-scan-"))
    if args.database == "postgresql":
        db_url = support.create_postgres_database(normalise_database_url(args.postgres))
    else:
        db_url = f"sqlite:///{work / 'scan.db'}"
    proc = None
    failed = False
    try:
        env = web.app_env(db_url, args.redis, work / "instance", argparse.Namespace(workers=None, threads=None))
        env["RATELIMIT_ENABLED"] = "true"  # production limits stay on: the scan sends only GETs and 3 logins
        support.run_flask(env, "db", "upgrade", "heads")
        support.run_flask(env, "seed-demo")
        ids = demo_ids(db_url)
        log = work / "gunicorn.log"
        proc, base = web.start_server(env, log)
        sessions = {}
        for email in (CLIENT, WORKER, TREASURER):
            cookie, token = web.sign_in(base, email)
            sessions[email] = {"cookie": cookie, "token": token}
        chosen = [t for t in targets(ids) if not args.only or args.only in t["path"]]
        version = re.search(r"\d+\.\d+[\w.#]*", subprocess.run(["sqlmap", "--version"], capture_output=True,
                                                                text=True).stdout)
        print(f"sqlmap {version.group(0) if version else '?'}, "
              f"level {args.level}, risk {args.risk}, {args.database}, {len(chosen)} endpoints", flush=True)
        rows = []
        for target in chosen:
            auth = sessions[target["user"]]
            url = base + target["path"] + "?" + urllib.parse.urlencode(target["params"])
            headers = {"Authorization": f"Bearer {auth['token']}"} if target["api"] else {"Cookie": auth["cookie"]}
            status, _ = web.fetch(url, headers)
            if status != 200:
                raise RuntimeError(f"{target['path']} answered {status} to {target['user']} before the scan")
            edge_failures = edge_statuses(base, target, headers)
            _, offset = access_log_counts(log, 0)
            started = time.monotonic()
            output, cmd = run_sqlmap(base, target, auth, args, work / "sqlmap")
            statuses, offset = access_log_counts(log, offset)
            found = verdicts(output, list(target["params"]))
            errors = sum(n for code, n in statuses.items() if code >= 500) + len(edge_failures)
            bad = errors or any(v != "not injectable" for v in found.values())
            failed = failed or bad
            rows.append((target, found, statuses, time.monotonic() - started))
            codes = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
            print(f"{'FAIL' if bad else 'ok  '} {target['path']} ({target['user']}): "
                  + ", ".join(f"{p} {v}" for p, v in found.items())
                  + f" | {sum(statuses.values())} requests ({codes}) in {time.monotonic() - started:.0f} s"
                  + (f" | 5xx on edge values: {edge_failures}" if edge_failures else ""), flush=True)
            if bad:
                (work / f"sqlmap-{len(rows)}.txt").write_text(output)
                print("   sqlmap output kept in", work / f"sqlmap-{len(rows)}.txt")
                args.keep = True
        print()
        print("| endpoint | signed in as | parameters | sqlmap requests | responses | verdict |")
        print("|---|---|---|---|---|---|")
        for target, found, statuses, _ in rows:
            codes = ", ".join(f"{n} × {code}" for code, n in sorted(statuses.items()))
            verdict = ("not injectable" if set(found.values()) == {"not injectable"}
                       else "; ".join(f"{p}: {v}" for p, v in found.items()))
            who = ("bearer token of " if target["api"] else "") + target["user"]
            print(f"| `GET {target['path']}` | {who} | {', '.join(target['params'])} | {sum(statuses.values()):,} "
                  f"| {codes} | {verdict} |")
        print("\nresult:", "findings or server errors above" if failed
              else "all tested parameters do not appear to be injectable; no request got a 5xx")
        return 1 if failed else 0
    finally:
        if proc is not None:
            support.stop_process(proc)
        if args.keep:
            print(f"kept: database {db_url}, files in {work}")
        else:
            if args.database == "postgresql":
                support.drop_postgres_database(db_url)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
