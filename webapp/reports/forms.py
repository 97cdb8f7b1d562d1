"""The report form of the monitor's reports page (Flask-WTF: CSRF-protected). It only converts
what was posted; what it posts is validated as the API's ReportIn, so both agree."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, widgets

from webapp.alerting.forms import choices

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1   # never a valid choice: the field says so


class ReportForm(FlaskForm):
    every = SelectField("Every", choices=choices([("daily", "day"), ("weekly", "week")]), default="daily")
    weekday = SelectField("Weekday (weekly reports)", choices=choices(enumerate(WEEKDAYS)), coerce=_int, default=0)
    hour = SelectField("Hour", choices=choices((h, f"{h:02d}:00") for h in range(24)), coerce=_int, default=8,
                       description="In the team's time zone.")
    format = SelectField("Format", choices=choices([("html", "HTML email"), ("pdf", "HTML email with a PDF attached")]),
                         default="html")
    notifiers = CheckboxesField("Send to", coerce=_int)
