"""The SQL models, one module per area; import from here."""
from .alerts import (DELIVERY_STATUSES, NOTIFIER_KINDS, RULE_KINDS, STATES, WINDOWS, AlertEvent,
                     AlertState, Delivery, Notifier, Rule, Silence, rule_notifiers)
from .backfill import BACKFILL_STATUSES, SLICE_STATUSES, Backfill, BackfillSlice
from .bus import BusOffset, BusRecord, DeadLetter
from .curation import VALENCE_MAX, VALENCE_MIN, LexiconAdjustment
from .leases import Lease, TaskDelivery
from .mentions import ALL_SOURCES, LABELS, Mention, Rollup
from .monitors import SYSTEM_KINDS, Monitor, Source, SourceFetch
from .scorers import ScorerModel
from .types import UTCDateTime, utcnow
from .users import ROLES, ApiToken, User, hash_token

__all__ = [
    "DELIVERY_STATUSES", "NOTIFIER_KINDS", "RULE_KINDS", "STATES", "WINDOWS", "AlertEvent",
    "AlertState", "Delivery", "Notifier", "Rule", "Silence", "rule_notifiers",
    "ALL_SOURCES", "LABELS", "ROLES", "SYSTEM_KINDS", "ApiToken", "BusOffset", "BusRecord",
    "DeadLetter", "Lease", "Mention", "Monitor", "Rollup", "Source", "SourceFetch", "TaskDelivery", "User", "UTCDateTime",
    "hash_token", "utcnow",
    "ScorerModel",
    "BACKFILL_STATUSES", "SLICE_STATUSES", "Backfill", "BackfillSlice",
    "VALENCE_MAX", "VALENCE_MIN", "LexiconAdjustment",
]
