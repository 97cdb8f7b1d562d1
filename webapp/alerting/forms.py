"""Web forms of the alerting pages (Flask-WTF: CSRF-protected).

The rule form is built from the field declarations of the registered rule kinds (and the
fields every rule has), and what it posts is turned into the API's RuleIn, so the page and the
API validate the same way and cannot drift apart: the form only converts types; ranges and the
rules between fields are RuleIn's and check_rule's. Durations are asked in minutes here and
stored in seconds.
"""
from __future__ import annotations

from functools import lru_cache

from flask_wtf import FlaskForm
from wtforms import (FloatField, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from webapp.alerting.kinds import all_kinds, get_kind
from webapp.alerting.kinds.base import COMMON_FIELDS, OP_LABELS, KindField, blank, kind_fields, number

try:   # WTForms 3.3 wants SelectChoice objects; older versions take (value, label) pairs
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None

FIELD_TYPES = {"text": StringField, "float": FloatField, "int": IntegerField, "seconds": IntegerField,
               "choice": SelectField, "ids": SelectMultipleField}


def choices(pairs) -> list:
    return [SelectChoice(value, label) for value, label in pairs] if SelectChoice else list(pairs)


class WebhookForm(FlaskForm):
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    url = StringField("URL", validators=[DataRequired(), Length(max=2048)])
    secret = StringField("Secret", validators=[Optional(), Length(max=200)],
                         description="whsec_… (Standard Webhooks). Leave empty to have one generated.")


class ChatForm(FlaskForm):
    """A chat service's incoming webhook (Slack, Mattermost, Discord, Teams, Google Chat)."""

    kind = SelectField("Service", choices=[], validators=[DataRequired()])
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    url = StringField("Webhook URL", validators=[DataRequired(), Length(max=2048)],
                      description="The service's incoming-webhook URL (see the help for each service below).")

    def __init__(self, *args, **kwargs):
        from webapp.alerting.notifiers import CHANNELS, CHAT_KINDS

        super().__init__(*args, **kwargs)
        self.kind.choices = choices([(kind, CHANNELS[kind].LABEL) for kind in CHAT_KINDS])


class EmailForm(FlaskForm):
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    to = TextAreaField("Recipients", validators=[DataRequired(), Length(max=5000)],
                       description="Email addresses, separated by commas or new lines.")


def _in_form_units(f: KindField, value):
    return value // 60 if f.type == "seconds" and value is not None else value


def _legend(kinds) -> str:
    """A fieldset's legend: its kind's, or the titles of the kinds that share its fields."""
    if len(kinds) == 1:
        return kinds[0].legend or kinds[0].title
    titles = [kinds[0].title] + [k.title.lower() for k in kinds[1:]]
    return f"{', '.join(titles[:-1])} and {titles[-1]}"


def _unset_choice(kinds) -> str:
    """The label of an optional choice left empty: each kind's default comparison."""
    defaults = ", ".join(f"{OP_LABELS[k.default_op]} for {k.title.lower()}" for k in kinds if k.default_op)
    return f"default ({defaults})" if defaults else "default"


def _form_field(f: KindField, decls: tuple = ()):
    """The WTForms field for a declaration; `decls` are the (kind, declaration) pairs of the
    kinds declaring it (none: a field every rule has, asked for with its default filled in)."""
    kind_field = bool(decls)
    description = " ".join(dict.fromkeys(d.help for _, d in decls if d.help)) if decls else f.help
    if kind_field and f.default is not None:
        description += f" Default: {number(_in_form_units(f, f.default))}."
    default = None if kind_field else _in_form_units(f, f.default)
    options = dict(description=description.strip(), validators=[Optional()])
    limits = dict(f.limits)
    # Ranges are RuleIn's to check; the inputs only show them (the form is novalidate).
    bounds = {attr: limits[key] for key, attr in (("ge", "min"), ("le", "max")) if key in limits}
    if f.type in ("int", "float", "seconds") and bounds:
        options["render_kw"] = bounds if f.type != "seconds" else {k: v // 60 for k, v in bounds.items()}
    if f.type == "text" and "max_length" in limits:
        options["validators"].append(Length(max=limits["max_length"]))
    if f.type == "choice":
        unset = [] if f.default is not None else [("", _unset_choice([k for k, _ in decls]))]
        pairs = unset + list(f.choices)
        options.update(choices=choices(pairs), default=default if default is not None else "")
        options["validators"] = [] if f.default is not None else [Optional()]
    elif f.type == "ids":
        options.update(coerce=int)
    elif default is not None:
        options.update(default=default)
    return FIELD_TYPES[f.type](f.label, **options)


class RuleFormBase(FlaskForm):
    """Behaviour of the rule form; `rule_form_class` adds the declared fields."""

    declared: dict[str, KindField] = {}          # API name -> declaration, every field of the form
    fieldset_names: tuple = ()                   # (legend, (form field names, ...)), kind fields then timing
    shown_by: dict[str, tuple[str, ...]] = {}    # common fields that only some kinds ask for

    def spec(self) -> dict:
        """The RuleIn body for this form: the common fields and those of the chosen kind."""
        kind = get_kind(self.kind.data)
        body = {"kind": kind.name}
        common = [f for f in COMMON_FIELDS if f.form and kind.name in self.shown_by.get(f.name, (kind.name,))]
        for f in (*common, *kind.fields):
            value = getattr(self, f.form_name).data
            if f.type == "ids":
                body[f.name] = list(value or [])
            elif not blank(value):
                body[f.name] = value * 60 if f.type == "seconds" else value
        return body

    def field_for(self, api_name: str):
        """The form field an API field's error belongs to (None: show it on the form)."""
        declared = self.declared.get(api_name)
        return getattr(self, declared.form_name, None) if declared else None

    def fieldsets(self) -> list[tuple[str, list]]:
        """(legend, [bound fields]) for the template, in declaration order."""
        return [(legend, [getattr(self, name) for name in names]) for legend, names in self.fieldset_names]


@lru_cache(maxsize=8)
def rule_form_class(kinds: tuple) -> type[RuleFormBase]:
    """The rule form for these kinds (built once per set of registered kinds)."""
    shared = kind_fields(kinds)
    attrs = {"kind": SelectField("Kind", choices=choices([(k.name, k.label) for k in kinds]), default=kinds[0].name)}
    declared = {}
    for f in COMMON_FIELDS:
        if f.form:
            attrs[f.form_name], declared[f.name] = _form_field(f), f
    groups: dict[str, list[str]] = {}
    for name, decls in shared.items():
        f = decls[0][1]
        attrs[f.form_name], declared[name] = _form_field(f, tuple(decls)), f
        groups.setdefault(f.group or _legend([k for k, _ in decls]), []).append(f.form_name)
    shown_by: dict[str, tuple] = {}
    for kind in kinds:   # a common field a kind shows goes after that kind's own fields
        last = kind.fields[-1] if kind.fields else None
        legend = (last.group or _legend([k for k, _ in shared[last.name]])) if last else kind.legend or kind.title
        for name in kind.shows:
            if name not in shown_by:
                groups.setdefault(legend, []).append(declared[name].form_name)
            shown_by[name] = (*shown_by.get(name, ()), kind.name)
    for f in COMMON_FIELDS:
        if f.form and f.group:
            groups.setdefault(f.group, []).append(f.form_name)
    attrs.update(declared=declared, shown_by=shown_by,
                 fieldset_names=tuple((legend, tuple(names)) for legend, names in groups.items()))
    return type("RuleForm", (RuleFormBase,), attrs)


def rule_form() -> RuleFormBase:
    """A rule form (bound to the request's data) for the kinds registered now."""
    return rule_form_class(all_kinds())()


class SilenceForm(FlaskForm):
    rule_id = SelectField("What", coerce=int, default=0)
    hours = FloatField("For (hours)", default=2, validators=[DataRequired(), NumberRange(min=0.1, max=90 * 24)])
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])
