"""Rules and writes about residents; pages, commands, tasks and the API call these."""

from enrollment.services.residents import (
    ENROLMENT_AGE,
    ResidentRejected,
    ResidentStatusConflict,
    resident_change_status,
    resident_register,
)

__all__ = [
    "ENROLMENT_AGE",
    "ResidentRejected",
    "ResidentStatusConflict",
    "resident_change_status",
    "resident_register",
]
