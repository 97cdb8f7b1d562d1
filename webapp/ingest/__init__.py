"""Ingest: the bus (SQL log or Kafka), publishing, the consumer pipeline, storing mentions and rollups."""
