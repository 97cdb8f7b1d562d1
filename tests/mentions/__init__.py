"""Tests of webapp/mentions/: mention search and exports."""
