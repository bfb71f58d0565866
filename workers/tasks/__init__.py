"""Named tasks: thin, take ids, call one service, safe to run twice."""

from workers.tasks import mail  # noqa: F401
