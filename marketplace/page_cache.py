"""A cache of rendered pages for the busiest signed-in screens, invalidated by the tables each page read.

Why: a signed-in page costs a login-session lookup, its own queries and a template render, several milliseconds of
CPU, while most views of a list such as the open requests see exactly what the previous view saw. A view marked
``@cacheable`` is rendered once per login session and URL and served again from memory until anything it depends
on changes.

How a stale page is ruled out:

- Every SQL statement the app sends through its engine is watched (``before_cursor_execute``). While a cacheable
  page renders, the tables its SELECTs read are recorded: the login session and roles behind ``current_user``,
  the page's own data, the unread-notifications count in the navigation, co-op settings. Those tables are the
  page's dependencies, found from what it really read rather than from a list someone must keep up to date.
- Every INSERT, UPDATE or DELETE marks its table as written on that database connection, with the tables the
  foreign keys' ON DELETE / ON UPDATE actions reach from it; when the transaction has committed and the
  connection goes back to the pool, each written table's version is raised in a shared store (a Redis hash in
  production, so every gunicorn worker, Celery worker and machine sees the same versions).
  Statements the watcher cannot read (DDL, TRUNCATE, COPY through ``note_write``…) raise the version ``*``, on
  which every page depends.
- A page is stored with the versions of its tables as they were *before* its first query, so a write that
  commits while it renders makes the stored copy out of date at once instead of hiding behind it.
- Before a stored copy is served, one round trip reads the current versions; any difference and the page is
  rendered afresh. A copy is also never older than ``PAGE_CACHE_TTL`` seconds (30 by default), which bounds what
  only time changes (a job whose start time passes) and writes made outside the app (psql by hand).
- Nothing is stored or served when the session carries flash messages, when rendering changed the session
  (a new CSRF token, a consumed flash), for anything but a 200 HTML response, or when the store cannot be
  reached (then every request renders, as without the cache; the tables written meanwhile are announced as soon
  as it answers again, before any version is trusted).

Copies are kept per process (an LRU of ``PAGE_CACHE_MAX_ENTRIES``), keyed by the login session id, the session's
CSRF token and the full URL, so one person's page never reaches another and its logout form stays valid. The
cache is on when ``PAGE_CACHE_URL`` names a store: ``redis://…`` (production defaults to ``REDIS_URL``) or
``memory://`` (one process only: tests). Without it — ``make run`` on SQLite — it is off. Responses of
cacheable views carry ``X-Page-Cache: hit`` or ``miss``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from flask import Flask, Response, g, has_request_context, request, session
from sqlalchemy import event

log = logging.getLogger(__name__)

EVERYTHING = "*"
_WRITTEN = "page_cache_written"
_COMMITTED = "page_cache_committed"

_NAME = r'(?:"?\w+"?\.)?"?(\w+)"?'
_ITEM = r'(?:"?\w+"?\.)?"?\w+"?(?:\s+(?:AS\s+)?"?\w+"?)?'
# FROM a, b AS b_1 (SQLAlchemy writes implicit joins as a list) and every JOIN x; subqueries match on their own.
_FROM_LISTS = re.compile(r"\bFROM\s+(" + _ITEM + r"(?:\s*,\s*" + _ITEM + r")*)", re.IGNORECASE)
_JOINED = re.compile(r"\bJOIN\s+" + _NAME, re.IGNORECASE)
_FIRST_NAME = re.compile(r"\s*" + _NAME)
_WRITE_TABLES = re.compile(r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM)\s+" + _NAME,
                           re.IGNORECASE)
# Statements that neither read nor change table data.
_NEUTRAL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ", "SHOW", "PRAGMA", "VACUUM", "ANALYZE",
            "EXPLAIN", "LISTEN", "NOTIFY")


def _read_tables(statement: str) -> set[str]:
    names = {name.lower() for name in _JOINED.findall(statement)}
    for listed in _FROM_LISTS.findall(statement):
        for item in listed.split(","):
            match = _FIRST_NAME.match(item)
            if match:
                names.add(match.group(1).lower())
    return names


def statement_tables(statement: str) -> tuple[set[str], set[str]]:
    """The tables a SQL statement reads and the tables it writes, lower-cased. A statement that changes data in a
    way this cannot name (DDL, TRUNCATE, COPY, anything unknown) writes ``*``."""
    head = statement.lstrip()[:16].upper()
    if head.startswith("SELECT"):
        return _read_tables(statement), set()
    if head.startswith(("INSERT", "UPDATE", "DELETE", "WITH", "REPLACE")):
        written = {name.lower() for name in _WRITE_TABLES.findall(statement)}
        reads = _read_tables(statement)
        if not written and not head.startswith("WITH"):
            written = {EVERYTHING}
        return reads, written
    if head.startswith(_NEUTRAL):
        return set(), set()
    return set(), {EVERYTHING}


class MemoryVersions:
    """Table versions in this process only (tests, or one process that is the only writer)."""

    def __init__(self):
        self._versions: dict[str, int] = {}
        self._lock = threading.Lock()

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._versions)

    def bump(self, tables: set[str]) -> None:
        with self._lock:
            for table in tables:
                self._versions[table] = self._versions.get(table, 0) + 1


class RedisVersions:
    """Table versions in one Redis hash, shared by every process and machine of the co-op's deployment."""

    def __init__(self, url: str, key: str):
        import redis

        self.key = key
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def snapshot(self) -> dict[str, int]:
        return {name.decode(): int(value) for name, value in self.client.hgetall(self.key).items()}

    def bump(self, tables: set[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for table in sorted(tables):
            pipe.hincrby(self.key, table, 1)
        pipe.execute()


@dataclass(frozen=True)
class Entry:
    stored_at: float
    depends_on: tuple[tuple[str, int], ...]
    body: bytes
    content_type: str
    user_id: int | None

    def current(self, versions: dict[str, int], now: float, ttl: float) -> bool:
        return now - self.stored_at < ttl and all(versions.get(t, 0) == v for t, v in self.depends_on)


@dataclass
class Rendering:
    """What a cacheable request collects while it renders."""

    key: tuple
    versions: dict[str, int]
    reads: set[str] = field(default_factory=set)


class PageCache:
    """The stored copies of one process, and its link to the shared table versions.

    When the store fails, the process stops asking it for ``RETRY_AFTER`` seconds (so a Redis outage costs each
    request nothing rather than a connection timeout), renders every page meanwhile, and keeps the names of the
    tables it wrote. It sends those first when the store answers again, before it trusts any version: copies
    other processes made before the outage are then retired as if the writes had been announced on time.
    """

    RETRY_AFTER = 2.0

    def __init__(self, store, ttl: float, max_entries: int, clock=time.monotonic):
        self.store = store
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._unsent: set[str] = set()
        self._down_until = 0.0
        self.hits = self.misses = 0

    # -- the shared versions -------------------------------------------------------------------------------------

    def versions(self) -> dict[str, int] | None:
        """The current table versions, or None when the store cannot be trusted right now (render afresh)."""
        if not self._reachable():
            return None
        try:
            return self.store.snapshot()
        except Exception:  # noqa: BLE001 - an unreachable store turns the cache off for a moment, nothing more
            self._failed("read the table versions")
            return None

    def tables_changed(self, tables: set[str]) -> None:
        with self._lock:
            self._unsent |= tables
        if self._reachable():
            return
        log.warning("page cache: the version store is unreachable; changes to %s will be sent when it answers",
                    ", ".join(sorted(tables)))

    def _reachable(self) -> bool:
        """Send the tables written since the last successful call; False while the store is failing."""
        if self.clock() < self._down_until:
            return False
        with self._lock:
            unsent, self._unsent = self._unsent, set()
        if not unsent:
            return True
        try:
            self.store.bump(unsent)
        except Exception:  # noqa: BLE001 - the writes themselves have committed; keep the names and retry
            with self._lock:
                self._unsent |= unsent
            self._failed("announce changed tables")
            return False
        return True

    def _failed(self, what: str) -> None:
        self._down_until = self.clock() + self.RETRY_AFTER
        log.warning("page cache: could not %s; rendering without the cache for %.0f s", what, self.RETRY_AFTER,
                    exc_info=True)

    # -- the stored pages ----------------------------------------------------------------------------------------

    def get(self, key: tuple, versions: dict[str, int]) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if not entry.current(versions, self.clock(), self.ttl):
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple, entry: Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def cacheable(view):
    """Mark a GET view whose HTML depends only on the signed-in user, the URL and database rows."""
    view.page_cacheable = True
    return view


def note_write(connection, table: str) -> None:
    """Record a write the statement watcher cannot see (COPY through the driver's own cursor)."""
    connection.info.setdefault(_WRITTEN, set()).add(table.lower())


def make_store(url: str, key: str):
    if url == "memory://":
        return MemoryVersions()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisVersions(url, key)
    raise ValueError(f"PAGE_CACHE_URL must be redis://…, rediss://…, unix://… or memory://, not {url!r}")


def cascades(metadata, action: str = "ondelete") -> dict[str, frozenset[str]]:
    """For each table, the tables the database itself changes when rows are deleted from it (``ondelete``) or their
    keys updated (``onupdate``): foreign keys with such an action (CASCADE, SET NULL…), followed transitively."""
    direct: dict[str, set[str]] = {}
    for table in metadata.tables.values():
        for fk in table.foreign_keys:
            if getattr(fk, action):
                direct.setdefault(fk.column.table.name, set()).add(table.name)
    closed: dict[str, frozenset[str]] = {}
    for parent in direct:
        seen: set[str] = set()
        todo = list(direct[parent])
        while todo:
            child = todo.pop()
            if child not in seen:
                seen.add(child)
                todo.extend(direct.get(child, ()))
        closed[parent] = frozenset(seen)
    return closed


def init_app(app: Flask, engine, metadata) -> PageCache | None:
    url = app.config.get("PAGE_CACHE_URL") or ""
    if not url:
        app.extensions["page_cache"] = None
        return None
    cache = PageCache(make_store(url, app.config["PAGE_CACHE_KEY"]),
                      ttl=float(app.config["PAGE_CACHE_TTL"]), max_entries=int(app.config["PAGE_CACHE_MAX_ENTRIES"]))
    app.extensions["page_cache"] = cache
    _watch_engine(engine, cache, {"DELETE": cascades(metadata, "ondelete"), "UPDATE": cascades(metadata, "onupdate")})
    _register_requests(app, cache)
    return cache


def _watch_engine(engine, cache: PageCache, cascade: dict[str, dict[str, frozenset[str]]]) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def watch_statement(conn, cursor, statement, parameters, context, executemany):
        reads, written = statement_tables(statement)
        if written:
            # Rows the database deletes or updates on its own through foreign-key actions change too.
            verb = statement.lstrip()[:6].upper()
            actions = (verb,) if verb in cascade else tuple(cascade) if verb.startswith("WITH") else ()
            for action in actions:
                for table in list(written):
                    written |= cascade[action].get(table, frozenset())
            conn.info.setdefault(_WRITTEN, set()).update(written)
        if reads:
            rendering = _rendering()
            if rendering is not None:
                rendering.reads.update(reads)

    @event.listens_for(engine, "commit")
    def committing(conn):
        # This runs just before the database commits: remember the tables, announce them once the connection
        # is back in the pool, which is after the commit has happened.
        written = conn.info.pop(_WRITTEN, None)
        if written:
            conn.info.setdefault(_COMMITTED, set()).update(written)

    @event.listens_for(engine, "rollback")
    def rolled_back(conn):
        conn.info.pop(_WRITTEN, None)

    @event.listens_for(engine.pool, "checkin")
    def returned(dbapi_connection, record):
        if record is None:
            return
        committed = record.info.pop(_COMMITTED, None)
        record.info.pop(_WRITTEN, None)
        if committed:
            cache.tables_changed(committed)


def _rendering() -> Rendering | None:
    return g.get("_page_cache_rendering") if has_request_context() else None


def _session_protection_passes(app: Flask) -> bool:
    """Flask-Login's "basic" session protection, which a served copy skips: a session used from another address or
    browser than it was created in is marked non-fresh on its first such request. Serve a copy only when that
    check would change nothing: the identifier matches, or the session is non-fresh already."""
    manager = getattr(app, "login_manager", None)
    if manager is None or not manager.session_protection:
        return True
    return session.get("_fresh") is False or session.get("_id") == manager._session_identifier_generator()


def _register_requests(app: Flask, cache: PageCache) -> None:
    @app.before_request
    def serve_stored_page():
        if request.method != "GET" or request.endpoint is None:
            return None
        view = app.view_functions.get(request.endpoint)
        if not getattr(view, "page_cacheable", False):
            return None
        sid = session.get("_user_id")
        if not sid or "_flashes" in session or not _session_protection_passes(app):
            return None
        versions = cache.versions()
        if versions is None:
            return None
        key = (sid, session.get("csrf_token"), request.full_path)
        entry = cache.get(key, versions)
        if entry is not None:
            cache.hits += 1  # counters for tests and diagnostics; not exact under threads
            g.page_cache_user_id = entry.user_id
            response = Response(entry.body, status=200, content_type=entry.content_type)
            response.headers["X-Page-Cache"] = "hit"
            return response
        cache.misses += 1
        g._page_cache_rendering = Rendering(key, versions)
        return None

    @app.after_request
    def store_page(response):
        rendering = g.pop("_page_cache_rendering", None)
        if rendering is None:
            return response
        response.headers["X-Page-Cache"] = "miss"
        if (response.status_code != 200 or response.mimetype != "text/html" or response.direct_passthrough
                or response.is_streamed or session.modified or "_flashes" in session
                or response.headers.get("Set-Cookie") or not rendering.reads):
            return response
        user = g.get("_login_user")
        depends_on = tuple(sorted((table, rendering.versions.get(table, 0))
                                  for table in rendering.reads | {EVERYTHING}))
        cache.put(rendering.key, Entry(cache.clock(), depends_on, response.get_data(),
                                       response.content_type, getattr(user, "id", None)))
        return response

    @app.teardown_request
    def forget_rendering(exc):
        g.pop("_page_cache_rendering", None)
