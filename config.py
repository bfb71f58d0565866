"""Configuration read from the environment.

With nothing set the app runs on embedded parts: a SQLite file under ``instance/``, a Celery broker
and result store in SQLite files beside it, and mail written to the outbox table and the log.
``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY`` and ``MAIL_SERVER`` switch to production parts.
Co-op decisions (fee rate, allocation policy, offer fan-out) are database rows, not settings here.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance")).resolve()
DEFAULT_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 - refused in production


def normalise_database_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class ConfigError(SystemExit):
    """A setting in the environment that cannot be used: the process stops with the reason and exit code 2."""

    def __init__(self, message: str):
        sys.stderr.write(f"configuration error: {message}\n")
        super().__init__(2)


def _env_number(name: str, default: str, kind: type = int, minimum: float = 0):
    value = os.environ.get(name, default)
    try:
        number = kind(value)
    except ValueError:
        number = None
    if number is None or number < minimum:
        unit = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {unit} of at least {minimum}, not {value!r}")
    return number


def _celery_settings(redis_url: str | None, instance_dir: Path) -> dict:
    if redis_url:
        broker = backend = redis_url
    else:
        broker = f"sqla+sqlite:///{instance_dir / 'celery-broker.sqlite'}"
        backend = f"db+sqlite:///{instance_dir / 'celery-results.sqlite'}"
    return {
        "broker_url": os.environ.get("CELERY_BROKER_URL", broker),
        "result_backend": os.environ.get("CELERY_RESULT_BACKEND", backend),
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        # Redis redelivers an unacknowledged task after this long; the database decides whether it already ran.
        "broker_transport_options": {"visibility_timeout": 3600} if redis_url else {},
        "beat_schedule_filename": str(instance_dir / "celerybeat-schedule"),
        "beat_schedule": {
            "bill-confirmed-gigs": {"task": "money.bill_confirmed", "schedule": 3600.0},
            "create-payouts": {"task": "money.create_payouts",
                               "schedule": crontab(minute=0, hour=6, day_of_week="mon")},
            "expire-offers": {"task": "marketplace.expire_offers", "schedule": 60.0},
            "auto-confirm-gigs": {"task": "marketplace.auto_confirm", "schedule": 300.0},
            "publish-reviews": {"task": "marketplace.publish_reviews", "schedule": 3600.0},
            "recover-dividend-runs": {"task": "treasury.recover_runs", "schedule": 600.0},
            "close-due-votes": {"task": "governance.close_due_proposals", "schedule": 60.0},
            "vote-reminders": {"task": "governance.send_reminders", "schedule": 900.0},
            "share-instalments": {"task": "governance.collect_instalments",
                                  "schedule": crontab(minute=0, hour=5, day_of_week="mon")},
        },
        "timezone": "UTC",
    }


class Config:
    """Defaults shared by every environment; each attribute can be overridden from the environment."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    INSTANCE_DIR = INSTANCE_DIR
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'marketplace.db'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL")
    CELERY = _celery_settings(REDIS_URL, INSTANCE_DIR)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", REDIS_URL or "memory://")
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    # How many proxies (load balancer, nginx) stand in front of the app and append to X-Forwarded-For. Per-address
    # limits and the audit log need the client's address: 0 (direct) trusts no forwarded header at all.
    TRUSTED_PROXY_COUNT = _env_number("TRUSTED_PROXY_COUNT", "0")
    # If the limit store (Redis) is unreachable, each process keeps counting in its own memory instead of
    # failing the request; the limits come back to shared counting once the store answers again.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Abuse limits, in Flask-Limiter's notation ("10/minute;50/hour" means both must hold); see marketplace/limits.py.
    RATELIMIT_API_TOKEN = os.environ.get("RATELIMIT_API_TOKEN", "10/minute;50/hour")  # token requests per address
    RATELIMIT_API_TOKEN_EMAIL = os.environ.get("RATELIMIT_API_TOKEN_EMAIL", "5/minute;20/hour")  # wrong passwords
    RATELIMIT_JOB_POSTING = os.environ.get("RATELIMIT_JOB_POSTING", "20/hour;100/day")  # jobs per client, web + API
    # Rendered copies of the busiest signed-in pages (marketplace/page_cache.py). The store holds the table
    # versions every process checks before serving a copy: Redis shared by all web and worker processes, or
    # ``memory://`` for a single process. Empty turns the cache off (the default without Redis).
    PAGE_CACHE_URL = os.environ.get("PAGE_CACHE_URL", REDIS_URL or "")
    PAGE_CACHE_KEY = os.environ.get("PAGE_CACHE_KEY", "marketplace:page-cache:versions")
    PAGE_CACHE_TTL = _env_number("PAGE_CACHE_TTL", "30", kind=float, minimum=0)  # seconds a copy may live at most
    PAGE_CACHE_MAX_ENTRIES = _env_number("PAGE_CACHE_MAX_ENTRIES", "2000", minimum=1)  # copies per process

    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = _env_number("MAIL_PORT", "587", minimum=1)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Co-op Marketplace <no-reply@coop.example>")

    SITE_NAME = os.environ.get("SITE_NAME", "Commons Co-op")
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # The co-op's local time zone: weekly availability and job times are read in it.
    COOP_TIMEZONE = os.environ.get("COOP_TIMEZONE", "America/Los_Angeles")
    PASSWORD_RESET_MAX_AGE = timedelta(hours=1)
    API_TOKEN_MAX_AGE = timedelta(days=30)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    # Argon2id at OWASP's recommended minimum: 19 MiB memory, 2 iterations, 1 lane.
    ARGON2_MEMORY_COST = 19 * 1024
    ARGON2_TIME_COST = 2
    ARGON2_PARALLELISM = 1


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class TestingConfig(Config):
    """Used by the test suite; the fixtures point the database and broker at per-test locations."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"  # noqa: S105 - test suite only
    RATELIMIT_ENABLED = False
    SERVER_NAME = None
    # Off unless a test (or the process it starts) asks for it: REDIS_URL alone does not turn it on here.
    PAGE_CACHE_URL = os.environ.get("PAGE_CACHE_URL", "")


class ProductionConfig(Config):
    ENV_NAME = "production"
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None) -> type[Config]:
    """The config class named by ``name`` or ``APP_ENV`` (development when unset)."""
    key = (name or os.environ.get("APP_ENV") or "development").lower()
    if key not in CONFIGS:
        raise RuntimeError(f"Unknown APP_ENV '{key}'; use one of {', '.join(CONFIGS)}")
    return CONFIGS[key]
