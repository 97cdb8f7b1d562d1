"""The SQL models, one module per area; import from here."""
from .bus import BusOffset, BusRecord, DeadLetter
from .mentions import ALL_SOURCES, LABELS, Mention, Rollup
from .monitors import SYSTEM_KINDS, Monitor, Source
from .types import UTCDateTime, utcnow
from .users import ROLES, ApiToken, User, hash_token

__all__ = [
    "ALL_SOURCES", "LABELS", "ROLES", "SYSTEM_KINDS", "ApiToken", "BusOffset", "BusRecord",
    "DeadLetter", "Mention", "Monitor", "Rollup", "Source", "User", "UTCDateTime",
    "hash_token", "utcnow",
]
