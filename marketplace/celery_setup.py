"""Celery bound to the Flask app, as in Flask's own Celery pattern: every task runs in the app context."""

from __future__ import annotations

import copy
import logging

from celery import Celery, Task
from celery.signals import task_failure, task_retry
from flask import Flask

log = logging.getLogger("marketplace.tasks")


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app from ``app.config["CELERY"]`` and store it in ``app.extensions["celery"]``."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(copy.deepcopy(app.config["CELERY"]))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


@task_failure.connect
def _log_task_failure(sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **_):
    """Failed tasks are logged with their name, id and arguments, so an operator can replay them."""
    log.error("task %s [%s] failed with args=%r kwargs=%r: %r", getattr(sender, "name", sender), task_id,
              args, kwargs, exception, exc_info=getattr(einfo, "exc_info", None))


@task_retry.connect
def _log_task_retry(sender=None, request=None, reason=None, **_):
    log.warning("task %s [%s] will retry (args=%r): %s", getattr(sender, "name", sender),
                getattr(request, "id", None), getattr(request, "args", None), reason)
