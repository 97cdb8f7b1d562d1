"""The form of the monitor edit page (Flask-WTF: CSRF-protected).

Per-source controls (keep enabled, remove) are plain checkboxes named `enabled` / `remove`
whose values are source ids, read by the view: their number depends on the monitor.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from webapp.core import query as query_language
from webapp.core.forms import check_query
from webapp.core import query as query_language


class MonitorEditForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    query = StringField(
        "Query", validators=[Optional(), Length(max=query_language.MAX_QUERY_LENGTH)],
        description='Words, "exact phrases", AND / OR / NOT, -word, (groups). Empty matches everything. '
                    "A new query applies to what is fetched from now on.")
    rss_urls = TextAreaField("Add RSS / Atom feeds", validators=[Optional(), Length(max=20_000)],
                             description="One feed URL per line.")
    every = IntegerField("Fetch new feeds every (seconds)", default=None,
                         validators=[Optional(), NumberRange(min=60, max=7 * 24 * 3600)],
                         description="Empty: the feed kind's default interval.")

    validate_query = check_query

    def source_specs(self) -> list[dict]:
        every = {"every": self.every.data} if self.every.data else {}
        return [{"kind": "rss", "url": line.strip(), **every}
                for line in (self.rss_urls.data or "").splitlines() if line.strip()]


class MonitorForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    query = StringField(
        "Query", validators=[Optional(), Length(max=query_language.MAX_QUERY_LENGTH)],
        description='Words, "exact phrases", AND / OR / NOT, -word, (groups). Empty matches everything.')
    rss_urls = TextAreaField("RSS / Atom feeds", validators=[Optional(), Length(max=20_000)],
                             description="One feed URL per line.")
    demo = BooleanField("Demo source (replays bundled sample mentions, no network)")
    every = IntegerField("Fetch every (seconds)", default=300,
                         validators=[DataRequired(), NumberRange(min=60, max=7 * 24 * 3600)])

    validate_query = check_query

    def source_specs(self) -> list[dict]:
        specs = [{"kind": "rss", "url": line.strip(), "every": self.every.data}
                 for line in (self.rss_urls.data or "").splitlines() if line.strip()]
        if self.demo.data:
            specs.append({"kind": "demo", "every": max(60, self.every.data or 60)})
        return specs
