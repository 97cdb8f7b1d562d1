"""Forms of the scorer pages (Flask-WTF: CSRF-protected). Scorer choices are filled in by the view."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, FloatField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from webapp.core.limits import MAX_TEXT
from webapp.scoring.training import NAME_PATTERN

FILE_HELP = ("CSV or TSV with a header row: a text column (text, content, tweet) and a label column "
             "(label, sentiment, class: positive / neutral / negative and common spellings) or a numeric "
             "score column (score, rating, compound).")


class EvaluateForm(FlaskForm):
    file = FileField("Labelled file", validators=[FileRequired("choose a file")], description=FILE_HELP)
    scorer = SelectField("Scorer", default="vader")


class TrainForm(FlaskForm):
    file = FileField("Labelled file", validators=[FileRequired("choose a file")], description=FILE_HELP)
    name = StringField("Model name", validators=[
        DataRequired(), Length(max=64),
        Regexp(NAME_PATTERN.pattern + r"\Z", message="letters, digits, '.', '_' or '-', starting with a letter or digit")],
        description="Training the same name again makes a new version of that model.")
    test_size = FloatField("Held-out share", default=0.2, validators=[Optional(), NumberRange(min=0.05, max=0.5)],
                           description="The model and VADER are measured on these rows, never trained on them.")


class MonitorScorerForm(FlaskForm):
    scorer = SelectField("Scorer")
    rescore = BooleanField("Re-score the mentions stored so far (in the background)", default=True)


class ExplainForm(FlaskForm):
    text = TextAreaField("Text", validators=[DataRequired(), Length(max=MAX_TEXT)])
    scorer = SelectField("Scorer", default="vader")


class ClassifyForm(FlaskForm):
    text = TextAreaField("Text", validators=[DataRequired(), Length(max=MAX_TEXT)])
