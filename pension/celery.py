"""The Celery application; tasks live in each app's tasks.py, queues and routes in settings."""

import os

from celery import Celery, Task

from pension.jobs import TRANSIENT_ERRORS

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pension.settings")


class JobTask(Task):
    """Every task of the project: acknowledged only once it ends, so that a worker that dies
    leaves it to be delivered again, and tried again, a bounded number of times with growing
    pauses, when the database or the broker was away for a moment. The services make a second
    delivery harmless (see pension.jobs)."""

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT_ERRORS
    max_retries = 5
    retry_backoff = 5  # seconds before the first retry, then doubled: 5, 10, 20, 40, 80
    retry_backoff_max = 300
    retry_jitter = True


app = Celery("pension", task_cls=JobTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
