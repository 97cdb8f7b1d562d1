"""Tests of webapp/ingest/: the bus, pipeline, rollups, URL dedupe, workers, distributed mode."""
