"""The form that starts a backfill from the monitor pages (Flask-WTF: CSRF-protected)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import DataRequired, ValidationError


class BackfillForm(FlaskForm):
    since = DateField("From (UTC day)", validators=[DataRequired(message="choose the first day")],
                      description="The first day to fetch, from midnight UTC.")
    until = DateField("To (UTC day, included)", validators=[DataRequired(message="choose the last day")],
                      description="The last day to fetch, up to now for today.")

    def validate_until(self, field):
        if self.since.data and field.data and field.data < self.since.data:
            raise ValidationError("the last day must not be before the first")
