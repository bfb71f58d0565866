"""Named tasks: thin, take ids, call one service, safe to run twice."""

from workers.tasks import governance, mail, marketplace, money, treasury  # noqa: F401
