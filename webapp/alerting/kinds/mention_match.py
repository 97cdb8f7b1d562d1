"""mention_match: new mentions matching a query, sent in digests rather than as a condition.

Evaluated every minute over mentions ingested since the last look (`mode = "digest"`); the
state machine's `next_digest` collects matches for `digest_wait_seconds` after the first and
sends up to `digest_cap` of them in one message.
"""
from __future__ import annotations

from markupsafe import Markup

from webapp.alerting.kinds.base import KindField, RuleKind, RuleParams
from webapp.core import query as query_language


class MentionMatch(RuleKind):
    name = "mention_match"
    label = "New mentions matching a query"
    title = "Mentions matching a query"
    legend = "Mentions matching a query (sent as a digest)"
    mode = "digest"
    fields = (
        KindField("query", "Query", "text", required=True,
                  limits=(("max_length", query_language.MAX_QUERY_LENGTH),),
                  help="New mentions matching it, e.g. acme AND (outage OR down)."),
        KindField("digest_wait_seconds", "Digest wait (minutes)", "seconds", default=300,
                  limits=(("ge", 0), ("le", 3600)), help="Collect matches this long after the first."),
        KindField("digest_cap", "Mentions per message (1–5)", "int", default=5, limits=(("ge", 1), ("le", 5)),
                  help="How many of the matching mentions one message shows."),
    )

    def check_values(self, spec) -> dict[str, str]:
        if spec.query and spec.query.strip():
            try:
                query_language.validate(spec.query)
            except query_language.QueryError as exc:
                return {"query": str(exc)}
        return {}

    def default_name(self, spec, op: str | None) -> str:
        return f"Mentions matching {spec.query.strip()}"[:120]

    def matcher(self, params: RuleParams):
        return query_language.compile_query(params.settings.get("query", "")).matches

    def condition(self, rule) -> dict:
        return {"op": None, "window": None}

    def describe(self, params: RuleParams) -> Markup:
        return Markup("<code>{}</code>").format(params.settings.get("query"))
