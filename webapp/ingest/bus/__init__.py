"""The bus: where fetched, pushed and imported mentions go before they are scored and stored."""
from __future__ import annotations

from webapp.ingest.bus.base import MENTIONS_GROUP, MENTIONS_TOPIC, Bus, Consumer, Envelope, decode, encode


class BusUrlError(ValueError):
    """BUS_URL names no bus this build knows."""


def open_bus(url: str, engine=None) -> Bus:
    """The bus that `url` names: `sql://` (the SQL log in the app's database) or `kafka://...`."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else url.lower()
    if scheme in ("sql", ""):
        if engine is None:
            raise BusUrlError("the SQL-log bus needs the app's database engine")
        from webapp.ingest.bus.sql_log import SqlLogBus

        return SqlLogBus(engine)
    if scheme == "kafka":
        from webapp.ingest.bus.kafka_bus import KafkaBus

        try:
            return KafkaBus(url, engine)
        except ValueError as exc:
            raise BusUrlError(str(exc)) from exc
    raise BusUrlError(f"unknown BUS_URL scheme {scheme!r}; expected sql:// or kafka://")


__all__ = [
    "MENTIONS_GROUP", "MENTIONS_TOPIC", "Bus", "BusUrlError", "Consumer", "Envelope",
    "decode", "encode", "open_bus",
]
