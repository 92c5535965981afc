"""What every background job shares: who is working on it, and which errors are worth a retry.

A job (an import, an export, a reconciliation, a proxy generation) is a row whose status the
pages follow. Which worker is doing it is not kept in that row but in PostgreSQL: the worker
holds a session advisory lock on the job while it works (its lease). The lock lives exactly as
long as the worker's database connection, so a worker that is killed, or loses the database,
loses its lease at once. A task delivered again (tasks are acknowledged only once they end)
can therefore tell a job a live worker is still doing (lease taken: do nothing) from one left
half-done by a dead worker (lease free, status still running: take it over and do it again;
each job's work is one transaction, so there is nothing half-written to undo).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from kombu.exceptions import OperationalError as BrokerError

# The database or the broker went away for a moment: the task is tried again later, and the job
# is left for that try (its lease went with the connection), not marked as failed.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError, BrokerError)

_INT4 = 2**31 - 1


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT_ERRORS)


@contextmanager
def lease(kind: str, pk: int) -> Iterator[bool]:
    """Hold the lease of job `pk` of `kind` for the block: yields True when this worker has it,
    False when another live worker does. On SQLite (the demo runs its tasks in-process, one at a
    time) it is always granted."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = [kind, pk % _INT4]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s), %s)", key)
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(hashtext(%s), %s)", key)
            except DatabaseError:
                pass  # the connection is gone, and the lease with it
