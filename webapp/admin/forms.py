"""Forms of the admin pages (dead-letter replay); Flask-WTF, CSRF-protected."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class ReplayForm(FlaskForm):
    payload = TextAreaField("Payload (JSON)", validators=[DataRequired(), Length(max=200_000)],
                            description="Correct the record if needed; it is published again as shown.")
