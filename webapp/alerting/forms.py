"""Web forms of the alerting pages (Flask-WTF: CSRF-protected).

The rule form is turned into the API's RuleIn, so both validate the same way; durations are
asked in minutes here and stored in seconds.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (FloatField, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

try:   # WTForms 3.3 wants SelectChoice objects; older versions take (value, label) pairs
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None


def choices(pairs) -> list:
    return [SelectChoice(value, label) for value, label in pairs] if SelectChoice else list(pairs)


KINDS = choices([("avg_sentiment", "Average sentiment"), ("negative_share", "Share of negative mentions (%)"),
                 ("volume_spike", "Volume spike"), ("mention_match", "New mentions matching a query")])
WINDOWS = choices([("15m", "15 minutes"), ("1h", "1 hour"), ("6h", "6 hours"), ("24h", "24 hours")])
OPS = choices([("", "default (< for sentiment, ≥ for negative share)"), ("<", "<"), ("<=", "≤"), (">", ">"),
               (">=", "≥")])
MINUTE_FIELDS = {"for_seconds": "for_minutes", "cooldown_seconds": "cooldown_minutes",
                 "repeat_seconds": "repeat_minutes", "digest_wait_seconds": "digest_wait_minutes"}
KIND_FIELDS = {
    "avg_sentiment": ("op", "threshold", "min_mentions"),
    "negative_share": ("op", "threshold", "min_mentions"),
    "volume_spike": ("z", "ratio", "min_count"),
    "mention_match": ("query", "digest_wait_seconds", "digest_cap"),
}


class WebhookForm(FlaskForm):
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    url = StringField("URL", validators=[DataRequired(), Length(max=2048)])
    secret = StringField("Secret", validators=[Optional(), Length(max=200)],
                         description="whsec_… (Standard Webhooks). Leave empty to have one generated.")


class EmailForm(FlaskForm):
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    to = TextAreaField("Recipients", validators=[DataRequired(), Length(max=5000)],
                       description="Email addresses, separated by commas or new lines.")


class RuleForm(FlaskForm):
    kind = SelectField("Kind", choices=KINDS, default="avg_sentiment")
    name = StringField("Name", validators=[Optional(), Length(max=120)], description="Optional.")
    window = SelectField("Window", choices=WINDOWS, default="1h")
    op = SelectField("Comparison", choices=OPS, default="", validators=[Optional()])
    threshold = FloatField("Threshold", validators=[Optional()],
                           description="Average sentiment: −1 to 1. Negative share: percent, 0 to 100.")
    min_mentions = IntegerField("Minimum mentions", default=5, validators=[Optional(), NumberRange(min=0)],
                                description="Fewer mentions in the window is “no data”, not an alert.")
    z = FloatField("Robust z-score at least", validators=[Optional()], description="Volume spike; default 3.5.")
    ratio = FloatField("Times the baseline at least", validators=[Optional()], description="Volume spike; default 2.")
    min_count = IntegerField("Mentions at least", validators=[Optional()], description="Volume spike; default 10.")
    query = StringField("Query", validators=[Optional(), Length(max=2000)],
                        description='New mentions matching it, e.g. acme AND (outage OR down).')
    digest_wait_minutes = IntegerField("Digest wait (minutes)", validators=[Optional()],
                                       description="Collect matches this long after the first; default 5.")
    digest_cap = IntegerField("Mentions per message (1–5)", validators=[Optional()])
    for_minutes = IntegerField("Pending for (minutes)", default=0, validators=[Optional()],
                               description="How long the condition must hold before firing.")
    cooldown_minutes = IntegerField("Cooldown (minutes)", default=0, validators=[Optional()],
                                    description="No new firing this soon after the last one.")
    repeat_minutes = IntegerField("Remind every (minutes)", default=0, validators=[Optional()],
                                  description="While firing; 0 for no reminders.")
    notifiers = SelectMultipleField("Notify", coerce=int, validators=[Optional()])

    def spec(self) -> dict:
        """The RuleIn body for this form: only the fields that belong to the chosen kind."""
        kind = self.kind.data
        body = {"kind": kind, "window": self.window.data, "notifiers": list(self.notifiers.data or [])}
        if self.name.data and self.name.data.strip():
            body["name"] = self.name.data
        for api_name, form_name in MINUTE_FIELDS.items():
            value = getattr(self, form_name).data
            if value is not None and (api_name != "digest_wait_seconds" or kind == "mention_match"):
                body[api_name] = value * 60
        for name in KIND_FIELDS.get(kind, ()):
            if name == "digest_wait_seconds":
                continue
            value = getattr(self, name).data
            if value not in (None, ""):
                body[name] = value
        return body

    def field_for(self, api_name: str):
        """The form field an API field's error belongs to (None: show it on the form)."""
        return getattr(self, MINUTE_FIELDS.get(api_name, api_name), None)


class SilenceForm(FlaskForm):
    rule_id = SelectField("What", coerce=int, default=0)
    hours = FloatField("For (hours)", default=2, validators=[DataRequired(), NumberRange(min=0.1, max=90 * 24)])
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])
