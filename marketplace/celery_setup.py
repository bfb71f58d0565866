"""Celery bound to the Flask app, as in Flask's own Celery pattern: every task runs in the app context."""

from __future__ import annotations

import copy

from celery import Celery, Task
from flask import Flask


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
