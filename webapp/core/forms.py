"""Form helpers shared by the features' forms (Flask-WTF)."""
from __future__ import annotations

from wtforms.validators import ValidationError

from webapp.core import query as query_language


def check_query(_form, field) -> None:
    """Inline WTForms validator: the query language's own error, pointing at the problem."""
    try:
        query_language.validate(field.data or "")
    except query_language.QueryError as exc:
        raise ValidationError(str(exc)) from exc


def add_errors(form, errors: dict[str, str]) -> None:
    """Show a service's {field: message} errors next to the form's fields."""
    for key, message in errors.items():
        getattr(form, key).errors = [*getattr(form, key).errors, message]
