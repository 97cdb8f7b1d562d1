"""Scheduled reports: a daily or weekly digest of a monitor sent to its notifiers, and Send now."""
