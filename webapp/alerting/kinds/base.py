"""What a rule kind is: the fields it declares, its checks, its pure evaluation and its modes.

A kind is one module with a `RuleKind` subclass (see `webapp/alerting/kinds/__init__.py`).
Everything else in alerting asks the kind instead of comparing kind strings: the request
shape (`rules.rule_in`) and the web form (`forms.rule_form`) are built from the declared
`KindField`s, checks and default names come from the kind, live evaluation and backtests pick
their runner from the kind's `mode`, and the rules page and the notification payload take the
kind's own description of its condition.

`RuleParams` and `Observation` (what the pure functions read and return) live here because
the kinds produce them; `webapp.alerting.conditions` re-exports them.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

from webapp.alerting.kinds.registry import get_kind
from webapp.alerting.windows import WINDOWS, WindowStats

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
OP_LABELS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}
WEEK_SECONDS = 7 * 24 * 3600
WINDOW_LABELS = {"15m": "15 minutes", "1h": "1 hour", "6h": "6 hours", "24h": "24 hours"}


@dataclass(frozen=True)
class KindField:
    """One field of a rule, as the API takes it and as the web form asks for it.

    `type` is one of "text", "float", "int", "seconds" (asked in minutes on the form), "choice",
    "ids" or "bool". `default` is the value used when the field is absent; `required` fields
    must be given for the kind that declares them; `limits` are the pydantic constraints
    (ge, gt, le, max_length, strip_whitespace) that the API checks for every kind. `column`
    fields live in the rule's own columns, the others in its `settings`. `group` is the form
    fieldset the field appears in (default: the kind's legend).
    """

    name: str
    label: str
    type: str
    default: Any = None
    required: bool = False
    help: str = ""
    choices: tuple = ()              # (value, label) pairs of a "choice" field
    limits: tuple = ()               # (constraint, value) pairs, e.g. (("ge", 0), ("le", 100))
    column: bool = False
    group: str = ""
    form: bool = True                # asked for on the web form

    @property
    def form_name(self) -> str:
        """The HTML input name: durations are asked in minutes."""
        return self.name.replace("_seconds", "_minutes") if self.type == "seconds" else self.name


def _timing(name: str, label: str, help: str) -> KindField:
    return KindField(name, label, "seconds", default=0, limits=(("ge", 0), ("le", WEEK_SECONDS)),
                     help=help, group="Timing")


# The fields every rule has, whatever its kind (the rule's own columns).
COMMON_FIELDS = (
    KindField("name", "Name", "text", limits=(("strip_whitespace", True), ("max_length", 120)), help="Optional."),
    KindField("window", "Window", "choice", default="1h", choices=tuple(WINDOW_LABELS.items())),
    KindField("min_mentions", "Minimum mentions", "int", default=5, limits=(("ge", 0), ("le", 1_000_000)),
              help="Fewer mentions in the window is “no data”, not an alert."),
    _timing("for_seconds", "Pending for (minutes)", "How long the condition must hold before firing."),
    _timing("cooldown_seconds", "Cooldown (minutes)", "No new firing this soon after the last one."),
    _timing("repeat_seconds", "Remind every (minutes)", "While firing; 0 for no reminders."),
    KindField("notifiers", "Notify", "ids", default=(), limits=(("max_length", 20),)),
    KindField("enabled", "Enabled", "bool", default=True, form=False),
)


@dataclass(frozen=True)
class RuleParams:
    """What the pure functions need to know about a rule (from a saved Rule or an unsaved spec)."""

    kind: str
    window: str = "1h"
    op: str | None = None
    threshold: float | None = None
    min_mentions: int = 0
    for_seconds: int = 0
    cooldown_seconds: int = 0
    repeat_seconds: int = 0
    settings: dict = field(default_factory=dict)

    @classmethod
    def of(cls, rule) -> "RuleParams":
        return cls(kind=rule.kind, window=rule.window, op=rule.op, threshold=rule.threshold,
                   min_mentions=rule.min_mentions or 0, for_seconds=rule.for_seconds or 0,
                   cooldown_seconds=rule.cooldown_seconds or 0, repeat_seconds=rule.repeat_seconds or 0,
                   settings=dict(rule.settings or {}))

    @property
    def length(self) -> timedelta:
        return WINDOWS[self.window]

    def setting(self, name: str):
        """A kind setting as stored, else the default its kind declares."""
        value = self.settings.get(name)
        return get_kind(self.kind).defaults().get(name) if value is None else value


@dataclass(frozen=True)
class Observation:
    value: float | None
    condition_met: bool | None
    threshold: float | None = None
    details: dict = field(default_factory=dict)


def compare(value: float, op: str, threshold: float) -> bool:
    return OPS[op](value, threshold)


def kind_fields(kinds) -> dict[str, list[tuple["RuleKind", KindField]]]:
    """Each kind field's name with the (kind, declaration) pairs of the kinds declaring it, in
    registration order: a field such as `threshold` is shared by several kinds."""
    found: dict[str, list] = {}
    for kind in kinds:
        for f in kind.fields:
            found.setdefault(f.name, []).append((kind, f))
    return found


def number(value) -> str:
    """A number as the pages show it ('%g'), '–' for none."""
    return "–" if value is None else f"{value:g}" if isinstance(value, (int, float)) else str(value)


def window_details(stats: WindowStats) -> dict:
    """The part of an observation's details every window kind reports."""
    return {"count": stats.count, "window_start": stats.start.isoformat(), "window_end": stats.end.isoformat()}


def blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def finite_between(value: float, low: float, high: float) -> bool:
    return math.isfinite(value) and low <= value <= high


class RuleKind:
    """Base class of rule kinds; a subclass sets the class attributes and overrides what differs.

    `mode` picks the runner: "window" kinds are evaluated on closed 15-minute windows with
    `observe` (and replayed slot by slot in backtests); "digest" kinds read new mentions every
    minute, keep those `matcher` accepts, and send them in digests; "health" kinds watch the
    monitor's sources every minute with `observe_health` (source_down).
    """

    name: str = ""
    label: str = ""                   # the choice in the form's kind select
    title: str = ""                   # short, for legends and help ("Volume spike")
    legend: str = ""                  # the form fieldset of the kind's fields (default: title)
    fields: tuple[KindField, ...] = ()
    shows: tuple[str, ...] = ()       # common fields the form asks for only with this kind
    mode: str = "window"
    explains: bool = False            # a firing carries a spike attribution (insights/attribution)
    default_op: str | None = None

    # -- declarations -----------------------------------------------------------------------

    def defaults(self) -> dict:
        return {f.name: f.default for f in self.fields if f.default is not None}

    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    # -- the request: checks, stored settings, default name ---------------------------------

    def check(self, spec) -> dict[str, str]:
        """Problems with this kind's own fields: required ones missing, then `check_values`."""
        errors = {f.name: f"{self.name} needs a {f.name}" for f in self.fields
                  if f.required and blank(getattr(spec, f.name))}
        return {**errors, **{k: v for k, v in self.check_values(spec).items() if k not in errors}}

    def check_values(self, spec) -> dict[str, str]:
        """Kind-specific checks of given values (ranges that depend on the kind, syntax)."""
        return {}

    def refusal(self, names: list[str]) -> str:
        """The message for fields of other kinds (op, threshold, ...) given with this one."""
        return f"{self.name} takes no {' or '.join(names)}"

    def settings_of(self, spec) -> dict:
        """The kind's given non-column fields, as stored in `Rule.settings`."""
        return {f.name: getattr(spec, f.name) for f in self.fields
                if not f.column and getattr(spec, f.name) is not None}

    def default_name(self, spec, op: str | None) -> str:
        return f"{self.title} over {spec.window}"

    # -- evaluation (pure) ------------------------------------------------------------------

    def reach(self, params: RuleParams) -> timedelta:
        """How far back before a window's end evaluation has to read rollups."""
        return params.length

    def reads(self, params: RuleParams, end, history_start) -> list[tuple]:
        """The ranges [start, end) of buckets that `observe` and `baseline` read for the window
        ending at `end` (within `reach`): batched evaluation loads only these."""
        return [(end - params.length, end)]

    def baseline(self, series, end, length):
        """The history the observation is compared with (None: the kind needs none)."""
        return None

    def observe(self, params: RuleParams, stats: WindowStats, baseline=None) -> Observation:
        """The rule's observation of one window; digest kinds have none."""
        raise ValueError(f"evaluate() does not handle {self.name!r} rules")

    def matcher(self, params: RuleParams) -> Callable[[str], bool]:
        """Digest kinds: which new mentions count."""
        raise ValueError(f"{self.name!r} rules are not digests")

    def state_params(self, params: RuleParams) -> RuleParams:
        """The rule as the state machine sees it (a kind whose value already includes the
        pending time, such as source_down, drops `for_seconds`)."""
        return params

    def samples(self, params: RuleParams) -> tuple[str | None, str]:
        """(label filter, order) of the sample mentions of a firing: "lowest", "highest" (by
        compound) or "newest"."""
        return None, "newest"

    # -- presentation -----------------------------------------------------------------------

    def condition(self, rule) -> dict:
        """The comparison and window a notification states."""
        return {"op": rule.op, "window": rule.window}

    def describe(self, params: RuleParams) -> str:
        """The condition column of the rules page (plain text, or Markup)."""
        return f"over {params.window}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} kind={self.name!r}>"
