"""The monitor forms (Flask-WTF: CSRF-protected): the monitor's own fields, name and query.

The sources part of both pages is built from the adapters' declared settings by
`webapp.monitors.source_forms` (one section per registered kind). On the edit page the
per-source controls (keep enabled, remove) are plain checkboxes named `enabled` / `remove`
whose values are source ids, read by the view: their number depends on the monitor.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from webapp.core import query as query_language
from webapp.core.forms import check_query

QUERY_HELP = 'Words, "exact phrases", AND / OR / NOT, -word, (groups). Empty matches everything.'


class MonitorForm(FlaskForm):
    """A new monitor's name and query."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    query = StringField("Query", validators=[Optional(), Length(max=query_language.MAX_QUERY_LENGTH)],
                        description=QUERY_HELP)

    validate_query = check_query


class MonitorEditForm(MonitorForm):
    """The same fields on the edit page, where a changed query applies from now on."""

    query = StringField("Query", validators=[Optional(), Length(max=query_language.MAX_QUERY_LENGTH)],
                        description=f"{QUERY_HELP} A new query applies to what is fetched from now on.")
    retention_days = IntegerField(
        "Keep raw mentions for (days)", validators=[Optional(), NumberRange(min=7, max=36500)],
        description="Empty keeps them forever. Older mentions are deleted daily; charts, series "
                    "and alerts keep their counts.")



class DeleteForm(FlaskForm):
    """A confirmation: only its CSRF token (the button is the confirmation)."""
