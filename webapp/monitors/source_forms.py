"""The source part of the monitor forms (new and edit), built from each adapter's declared settings.

Why: every adapter declares its settings as `SettingField`s, so the pages build one section per
registered kind from them (a new kind shows up by registering it) and validate what was typed with
the same `check_sources` the API uses: this module only turns inputs into source specs and puts the
service's errors back next to the input they came from, so page and API cannot drift.

Input names: a `src-<kind>` box adds the kind's source, `src-<kind>-<setting>` carries a setting and
`src-<kind>-every` its interval. Three names of the earlier hand-written form are kept (LEGACY):
`rss_urls` (feed URLs, one per line, one RSS source each), `demo` (the demo box) and `every` (the
RSS interval, and the demo's when its own is empty). Credentials are write-only password inputs
that never render a value. A section is added only when its box is ticked (the small script ticks
it on typing); typed settings in an unticked section are an error, never silently dropped, and
never an accidental source from a browser's autofill.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from flask import current_app
from wtforms import BooleanField, IntegerField, PasswordField, StringField, TextAreaField
from wtforms.form import BaseForm
from wtforms.validators import Length, NumberRange, Optional

from webapp.monitors.services.manage import MAX_EVERY, MonitorInvalid
from webapp.monitors.sources import REGISTRY, SourceAdapter
from webapp.core.numbers import digits_as_int

# Input names of the earlier hand-written form, still accepted (and rendered) under these names.
LEGACY = {("rss", "url"): "rss_urls", ("rss", "every"): "every", ("demo", "add"): "demo"}
FIRST_KINDS = ("rss", "demo")  # shown first and open, as the earlier form showed them
_ERROR_KEY = re.compile(r"sources\[(\d+)\](?:\.(\w+))?")
TEST_BUTTON = "test_source"   # the name of the "Test source" buttons; their value is the kind
MAX_TESTED = 5                # feed lines tested by one press
PROBES_AT_ONCE = 8            # sources fetched at the same time by a test or a save


def input_name(kind: str, part: str = "add") -> str:
    """The HTML name of a section's input: `part` is a setting name, 'every' or 'add'."""
    if (kind, part) in LEGACY:
        return LEGACY[(kind, part)]
    return f"src-{kind}" if part == "add" else f"src-{kind}-{part}"


def ordered_kinds() -> list[str]:
    """Every registered kind: RSS and demo first, then the others by name."""
    return [k for k in FIRST_KINDS if k in REGISTRY] + sorted(k for k in REGISTRY if k not in FIRST_KINDS)


def _every_field(adapter: SourceAdapter, creating: bool):
    """The interval input: RSS keeps the earlier integer field, the other kinds take text that
    check_sources judges (so a wrong value gets the API's own message)."""
    if adapter.kind == "rss":
        return IntegerField(
            "Fetch every (seconds)" if creating else "Fetch new feeds every (seconds)",
            default=adapter.default_every if creating else None,
            validators=[Optional(), NumberRange(min=60, max=MAX_EVERY)],
            description=f"At least {adapter.min_every}; empty: {adapter.default_every}. "
                        "Also the demo source's interval when its own is empty.")
    return StringField("Fetch every (seconds)", validators=[Optional(), Length(max=12)],
                       render_kw={"inputmode": "numeric", "autocomplete": "off"},
                       description=f"At least {adapter.min_every}; empty: {adapter.default_every}.")


def _setting_field(adapter: SourceAdapter, setting):
    label = f"{setting.label} (required)" if setting.required else setting.label
    if setting.secret:  # write-only: PasswordField never renders a value back
        return PasswordField(label, description=f"{setting.help} Write-only: never shown again.",
                             render_kw={"autocomplete": "new-password"})
    if (adapter.kind, setting.name) == ("rss", "url"):
        return TextAreaField("RSS / Atom feeds", validators=[Length(max=20_000)],
                             description=f"{setting.help} One feed URL per line.")
    return StringField(label, description=setting.help, render_kw={"autocomplete": "off"})


@dataclass
class Section:
    """One kind's inputs, bound to the request: the add box (None for RSS, whose lines add), the
    settings by setting name, and the interval."""

    adapter: SourceAdapter
    form: BaseForm
    add: object | None
    settings: dict = field(default_factory=dict)
    every: object = None
    results: list = field(default_factory=list)   # (RSS line or None, ProbeResult) of "Test source"

    @property
    def kind(self) -> str:
        return self.adapter.kind

    @property
    def inputs(self) -> list:
        return [f for f in (self.add, *self.settings.values(), self.every) if f is not None]

    @property
    def open(self) -> bool:
        """Shown unfolded: RSS and demo always, the others when used or wrong."""
        return self.kind in FIRST_KINDS or bool(self.add is not None and self.add.data) \
            or any(f.errors for f in self.inputs) or bool(self.results)

    def typed(self) -> bool:
        """Whether any setting was typed in (an interval alone does not count)."""
        return any((f.data or "").strip() for f in self.settings.values())


def _section(adapter: SourceAdapter, formdata, creating: bool) -> Section:
    kind = adapter.kind
    parts = [] if kind == "rss" else [("add", BooleanField(f"Add {adapter.label}"))]
    parts += [(s.name, _setting_field(adapter, s)) for s in adapter.fields]
    parts.append(("every", _every_field(adapter, creating)))
    names = [part for part, _ in parts]
    if len(set(names)) != len(names):  # a setting called 'add' or 'every' would shadow an input
        raise ValueError(f"{kind}: a setting is named like the form's own 'add' or 'every' input")
    form = BaseForm([(input_name(kind, part), unbound) for part, unbound in parts])
    form.process(formdata)
    bound = {part: form[input_name(kind, part)] for part, _ in parts}
    every, add = bound.pop("every"), bound.pop("add", None)
    return Section(adapter, form, add, bound, every)


@dataclass
class _Origin:
    """Where the i-th spec came from: its section and, for an RSS line, the URL to prefix errors with."""

    section: Section
    line: str | None = None


class SourceInputs:
    """The source sections of one request: read them, turn them into specs, attach errors."""

    def __init__(self, formdata=None, *, creating: bool):
        self.sections = [_section(REGISTRY[k], formdata, creating) for k in ordered_kinds()]
        self.by_kind = {s.kind: s for s in self.sections}
        self.errors: list[str] = []  # about the sources as a whole
        self.warnings: list[str] = []  # problems that may pass (timeouts, 5xx, 429) found on save
        self._origins: list[_Origin] = []
        # The kind whose "Test source" button was pressed (None: an ordinary submit).
        self.test_kind = (formdata.get(TEST_BUTTON) or None) if formdata is not None else None

    def validate(self) -> bool:
        """Input-level checks only (the intervals' ranges, ticked boxes); settings are the service's."""
        ok = all([s.form.validate() for s in self.sections])
        for section in self.sections:
            if section.add is not None and not section.add.data and section.typed():
                section.add.errors = [*section.add.errors, f"Tick “{section.add.label.text}” to add this "
                                      "source, or clear its fields."]
                ok = False
        return ok

    def specs(self) -> list[dict]:
        """Source specs as create_monitor / update_monitor take them; remembers where each came from."""
        self._origins, specs = [], []
        for section in self.sections:
            for origin, spec in self._section_specs(section, tested=False):
                specs.append(spec)
                self._origins.append(origin)
        return specs

    def _section_specs(self, section: Section, *, tested: bool) -> list[tuple[_Origin, dict]]:
        """The specs one section adds; `tested`: a section being tested counts as added."""
        every = _every(section.every.data)
        if every is None and section.kind == "demo" and "rss" in self.by_kind:
            every = self.by_kind["rss"].every.data
        extra = {} if every is None else {"every": every}
        if section.kind == "rss":
            lines = [line.strip() for line in (section.settings["url"].data or "").splitlines() if line.strip()]
            return [(_Origin(section, line), {"kind": "rss", "url": line, **extra}) for line in lines]
        if not (section.add.data or tested):
            return []
        values = {name: f.data for name, f in section.settings.items() if (f.data or "").strip()}
        return [(_Origin(section), {"kind": section.kind, **values, **extra})]

    def test(self, probe_one) -> None:
        """"Test source": `probe_one(spec)` (services/probe.py) for the pressed section's source(s),
        the results kept on the section for the page; nothing is saved."""
        section = self.by_kind.get(self.test_kind)
        if section is None:
            self.errors.append("There is no such source kind to test.")
            return
        if not section.form.validate():
            return
        tested = self._section_specs(section, tested=True)[:MAX_TESTED]
        if not tested:
            self.errors.append(f"Fill in the {section.adapter.label} settings, then test it.")
            return
        for (origin, _), result in zip(tested, _all(probe_one, [spec for _, spec in tested])):
            self._origins = [origin]   # the probe checks one spec: its errors are keyed sources[0]
            self.attach(result.errors)
            section.results.append((origin.line, result))

    def check(self, specs: list[dict], probe_one) -> None:
        """Before saving: fetch every new source once; a problem that waiting will not fix is
        raised as MonitorInvalid (keyed like check_sources, shown next to its input), the others
        are kept in `warnings` for the page to mention after saving."""
        errors = {}
        for i, (spec, result) in enumerate(zip(specs, _all(probe_one, specs))):
            if result.ok or result.problem is None:   # settings errors: the save reports them
                continue
            if result.problem.lasting:
                errors[f"sources[{i}].{result.setting}" if result.setting else f"sources[{i}]"] = result.problem.text
            else:
                self.warnings.append(f"{REGISTRY[spec['kind']].label}: {result.problem.text}")
        if errors:
            raise MonitorInvalid(errors)

    def attach(self, errors: dict[str, str], form=None) -> None:
        """Show the service's errors (keyed `name`, `sources[i].url`, ...) next to their input;
        `form` holds the monitor's own fields (name, query)."""
        for key, message in errors.items():
            target = form[key] if form is not None and key in form else None
            match = _ERROR_KEY.fullmatch(key)
            if target is None and match and int(match[1]) < len(self._origins):
                origin = self._origins[int(match[1])]
                target = self._input_for(origin.section, match[2])
                if origin.line is not None:
                    message = f"{origin.line}: {message}"
            if target is None:
                self.errors.append(message)
            else:
                target.errors = [*target.errors, message]

    def _input_for(self, section: Section, part: str | None):
        if part == "every":
            # The demo may have taken the RSS interval: the error goes where the value was typed.
            if section.every.data in (None, "") and section.kind == "demo":
                return self.by_kind["rss"].every
            return section.every
        return section.settings.get(part) or section.add or section.settings.get("url")

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(f.errors for s in self.sections for f in s.inputs)


def _all(probe_one, specs: list[dict]) -> list:
    """`probe_one` of every spec, at most PROBES_AT_ONCE at a time (each waits on the network)."""
    if len(specs) <= 1:
        return [probe_one(spec) for spec in specs]
    with ThreadPoolExecutor(max_workers=min(PROBES_AT_ONCE, len(specs))) as pool:
        return list(pool.map(probe_one, specs))


def _every(value):
    """An interval as typed: an int for digits, None when empty, else the text for check_sources
    to refuse with its own message."""
    if value is None or isinstance(value, int):
        return value
    value = value.strip()
    if not value:
        return None
    return digits_as_int(value)


def submit(form, sources: SourceInputs, save, probe_one=None):
    """One path for the new and edit pages: when the page was posted, check the monitor's own
    fields and the sources' inputs, then `save(specs)` (a service call that validates the
    settings); the service's errors land next to their inputs. Returns what `save` returned,
    or None when nothing was saved.

    `probe_one(spec)` fetches a source once (services/probe.py): a "Test source" press runs it
    on that section only and saves nothing; a save runs it on every new source first (unless
    None: SOURCE_CHECK_ON_SAVE off)."""
    if not form.is_submitted():
        return None
    if sources.test_kind is not None:
        if probe_one is not None:   # (the CSRF token was checked before the view: CSRFProtect)
            sources.test(probe_one)
        return None
    if not all([form.validate(), sources.validate()]):  # both, so that every error shows
        return None
    specs = sources.specs()
    try:
        if probe_one is not None and current_app.config.get("SOURCE_CHECK_ON_SAVE", True):
            sources.check(specs, probe_one)
        return save(specs)
    except MonitorInvalid as exc:
        sources.attach(exc.errors, form)
        return None


def page_status(form, sources: SourceInputs) -> int:
    """400 when the page shows an error, 200 otherwise."""
    return 400 if form.errors or sources.has_errors else 200


def prober(form):
    """`probe_one` for submit(): one fetch through the app's egress policy, with the typed query
    (when it is a valid one) as the monitor's query, for the adapters that search with it."""
    from webapp.core import query as query_language
    from webapp.core import runtime
    from webapp.monitors.services.probe import probe

    typed = form.query.data or ""
    try:
        query_language.validate(typed)
    except query_language.QueryError:
        typed = ""
    policy = runtime.egress_policy()   # read here: the probes may run in other threads
    return lambda spec: probe(spec, policy, monitor_query=typed)


def saved_message(monitor, sources: SourceInputs, verb: str) -> str:
    """The flash after saving: when the first fetch comes (only if there is a source to fetch),
    and the problems found on save that may pass by themselves."""
    if monitor.fetched_sources:
        text = f"Monitor “{monitor.name}” {verb}; its sources are fetched within a minute."
    else:
        text = (f"Monitor “{monitor.name}” {verb}. It has no source to fetch yet: add one on its edit "
                "page, or push or import mentions.")
    if sources.warnings:
        text += " Note: " + " ".join(sources.warnings)
    return text
