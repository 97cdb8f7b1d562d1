"""Forms of the people pages (users, API tokens); Flask-WTF, CSRF-protected."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from webapp.people.models import ROLES
from webapp.people.services.passwords import MIN_PASSWORD, password_problem

ROLE_CHOICES = list(ROLES)


class LoginForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField("Keep me signed in")


class NewUserForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default="viewer")
    password = PasswordField("Initial password", validators=[DataRequired()],
                             description=f"At least {MIN_PASSWORD} characters; tell it to the person securely.")

    def validate_password(self, field) -> None:
        """The one password rule (services/passwords.py), as for the CLI and /account."""
        problem = password_problem(field.data)
        if problem:
            raise ValidationError(problem)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class NewTokenForm(FlaskForm):
    name = StringField("Token name", validators=[Optional(), Length(max=100)],
                       description="What it is for, e.g. “import script”.")

