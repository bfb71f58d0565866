"""The Celery entry point: builds the Flask app from the environment and exposes its Celery app.

Run ``celery -A workers.celery_app worker`` and ``celery -A workers.celery_app beat``. Tests import
``workers.tasks`` with their own app instead of this module (it would connect to the real broker).
"""

from marketplace import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]

import workers.tasks  # noqa: E402,F401  (register the tasks on this Celery app)
