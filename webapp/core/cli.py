"""Helpers shared by the features' `flask` commands."""
from __future__ import annotations

import click


def echo_bad_rows(bad: list[tuple[int, str]], shown: int = 20) -> None:
    """List rejected rows (line number and reason) on stderr, the first `shown` of them."""
    for line, reason in bad[:shown]:
        click.echo(f"  line {line}: {reason}", err=True)
    if len(bad) > shown:
        click.echo(f"  ... and {len(bad) - shown} more", err=True)
