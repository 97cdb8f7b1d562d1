"""The form of the lexicon page (Flask-WTF: CSRF-protected); the checks are services/lexicon.clean's."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DecimalField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange


class LexiconForm(FlaskForm):
    word = StringField("Word", validators=[DataRequired(), Length(max=64)],
                       description='One word as it appears in mentions, e.g. "sick". Case does not matter.')
    valence = DecimalField("Valence", places=None, validators=[InputRequired(message="enter a number from -4 to 4"),
                                                               NumberRange(min=-4, max=4)],
                           description="From -4 (most negative) to 4 (most positive); VADER's "
                                       '"good" is 1.9, "love" 3.2, "sick" -2.3.')
