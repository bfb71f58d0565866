"""Which tables a SQL statement reads and writes, as the page cache's statement watcher sees them."""

from __future__ import annotations

import pytest

from marketplace.page_cache import EVERYTHING, Entry, MemoryVersions, PageCache, cascades, statement_tables


@pytest.mark.parametrize(("statement", "reads", "writes"), [
    ("SELECT jobs.id FROM jobs JOIN service_categories ON x WHERE y", {"jobs", "service_categories"}, set()),
    ('SELECT "user".id FROM "user" LEFT OUTER JOIN "public"."roles" AS r ON 1', {"user", "roles"}, set()),
    ("SELECT count(*) FROM (SELECT id FROM notifications) AS anon_1", {"notifications"}, set()),
    ("SELECT a.id FROM jobs AS a, offers, \"public\".users AS u_1 WHERE a.id = offers.job_id",
     {"jobs", "offers", "users"}, set()),
    ("SELECT x FROM jobs, (SELECT 1 FROM ledger) AS s JOIN LATERAL (SELECT 2 FROM gigs) AS g ON true",
     {"jobs", "ledger", "gigs", "lateral"}, set()),
    ("SELECT id FROM jobs WHERE id = 1 FOR UPDATE", {"jobs"}, set()),
    ("  select 1", set(), set()),
    ("INSERT INTO jobs (title) VALUES (?)", set(), {"jobs"}),
    ('UPDATE "offers" SET status=%(s)s WHERE id IN (SELECT id FROM jobs)', {"jobs"}, {"offers"}),
    ("DELETE FROM user_roles WHERE user_id = 1", {"user_roles"}, {"user_roles"}),
    ("INSERT INTO settings (k, v) VALUES (1, 2) ON CONFLICT (k) DO UPDATE SET v = excluded.v", set(),
     {"settings", "set"}),
    ("WITH moved AS (UPDATE jobs SET status='x' RETURNING id) SELECT id FROM moved", {"moved"}, {"jobs"}),
    ("REPLACE INTO settings VALUES (1)", set(), {"settings"}),
    ("INSERT OR IGNORE INTO user_roles (user_id, role) VALUES (1, 'worker')", set(), {"user_roles"}),
    ("TRUNCATE jobs, offers RESTART IDENTITY", set(), {EVERYTHING}),
    ("ALTER TABLE jobs ADD COLUMN x int", set(), {EVERYTHING}),
    ("COPY ledger_postings (a) FROM STDIN", set(), {EVERYTHING}),
    ("SAVEPOINT sa_savepoint_1", set(), set()),
    ("RELEASE SAVEPOINT sa_savepoint_1", set(), set()),
    ("PRAGMA foreign_keys=ON", set(), set()),
])
def test_statement_tables(statement, reads, writes):
    assert statement_tables(statement) == (reads, writes)


def test_an_entry_is_current_only_while_every_table_it_read_keeps_its_version_and_the_ttl_holds():
    entry = Entry(stored_at=100.0, depends_on=(("*", 0), ("jobs", 3)), body=b"", content_type="text/html",
                  user_id=1)
    assert entry.current({"jobs": 3, "offers": 9}, now=110.0, ttl=30)
    assert not entry.current({"jobs": 4}, now=110.0, ttl=30)
    assert not entry.current({"jobs": 3, "*": 1}, now=110.0, ttl=30)
    assert not entry.current({"jobs": 3}, now=130.0, ttl=30)


def test_the_cache_keeps_at_most_max_entries_dropping_the_least_recently_used():
    cache = PageCache(MemoryVersions(), ttl=60, max_entries=2)

    def entry(body: bytes) -> Entry:
        import time

        return Entry(time.monotonic(), (("*", 0),), body, "text/html", None)

    cache.put(("a",), entry(b"a"))
    cache.put(("b",), entry(b"b"))
    assert cache.get(("a",), {}) is not None  # "a" is now the most recently used
    cache.put(("c",), entry(b"c"))
    assert len(cache) == 2
    assert cache.get(("b",), {}) is None
    assert cache.get(("a",), {}).body == b"a" and cache.get(("c",), {}).body == b"c"
    cache.store.bump({"*"})
    assert cache.get(("a",), cache.versions()) is None and len(cache) == 1


def test_foreign_key_actions_reach_every_table_the_database_changes_on_its_own():
    from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table

    metadata = MetaData()
    Table("users", metadata, Column("id", Integer, primary_key=True))
    Table("profiles", metadata, Column("id", Integer, primary_key=True),
          Column("user_id", ForeignKey("users.id", ondelete="CASCADE")))
    Table("services", metadata, Column("id", Integer, primary_key=True),
          Column("profile_id", ForeignKey("profiles.id", ondelete="SET NULL")))
    Table("audit", metadata, Column("id", Integer, primary_key=True), Column("user_id", ForeignKey("users.id")))
    Table("keys", metadata, Column("id", Integer, primary_key=True),
          Column("user_id", ForeignKey("users.id", onupdate="CASCADE")))
    assert cascades(metadata) == {"users": {"profiles", "services"}, "profiles": {"services"}}
    assert cascades(metadata, "onupdate") == {"users": {"keys"}}



class FlakyStore(MemoryVersions):
    """The shared versions with an off switch: ``down`` makes every call fail as an unreachable Redis does."""

    def __init__(self):
        super().__init__()
        self.down = False
        self.calls = 0

    def snapshot(self):
        self.calls += 1
        if self.down:
            raise ConnectionError("store down")
        return super().snapshot()

    def bump(self, tables):
        self.calls += 1
        if self.down:
            raise ConnectionError("store down")
        super().bump(tables)


def test_writes_made_while_the_store_is_down_are_announced_before_any_version_is_trusted_again():
    now = [1000.0]
    store = FlakyStore()
    writer = PageCache(store, ttl=60, max_entries=10, clock=lambda: now[0])
    reader = PageCache(store, ttl=60, max_entries=10, clock=lambda: now[0])  # another process, same store
    versions = reader.versions()
    reader.put(("page",), Entry(now[0], (("*", 0), ("jobs", versions.get("jobs", 0))), b"old", "text/html", 1))
    assert reader.get(("page",), reader.versions()) is not None

    store.down = True
    writer.tables_changed({"jobs"})  # the write has committed; the store cannot hear of it
    assert writer.versions() is None
    calls = store.calls
    writer.tables_changed({"offers"})
    assert writer.versions() is None and store.calls == calls  # no call at all while backing off

    store.down = False
    now[0] += PageCache.RETRY_AFTER
    current = writer.versions()  # the first call that reaches the store sends the writes first
    assert current["jobs"] == 1 and current["offers"] == 1
    assert reader.get(("page",), reader.versions()) is None
