"""Tests of webapp/alerting/: rules, evaluation, state, notifiers, deliveries."""
