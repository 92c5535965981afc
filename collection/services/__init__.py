"""Rules and writes of the campaign. Pages, the API, commands, tasks and the admin all call these
functions; none of them writes a payment or checks a tier on its own."""

from collection.services.payments import PaymentRejected, payment_record, payment_reverse
from collection.services.schedules import (
    TierSpec,
    resident_qualifies_for_proxy,
    schedule_for,
    schedule_validate_tiers,
)

__all__ = [
    "PaymentRejected",
    "TierSpec",
    "payment_record",
    "payment_reverse",
    "resident_qualifies_for_proxy",
    "schedule_for",
    "schedule_validate_tiers",
]
