"""Web forms (Flask-WTF: CSRF-protected)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from .services import query as query_language


def check_query(_form, field) -> None:
    """Inline WTForms validator: the query language's own error, pointing at the problem."""
    try:
        query_language.validate(field.data or "")
    except query_language.QueryError as exc:
        raise ValidationError(str(exc)) from exc


class LoginForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField("Keep me signed in")


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


class ClassifyForm(FlaskForm):
    text = TextAreaField("Text", validators=[DataRequired(), Length(max=20_000)])
