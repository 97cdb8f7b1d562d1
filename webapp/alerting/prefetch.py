"""What a batch of window rules reads, loaded at once (batched evaluation, evaluation.py).

Two statements for any number of rules: every monitor's history start, then only the bucket
ranges each rule reads (`RuleKind.reads`: a volume spike with a month of history reads its
window and the same hour of the four weeks before, not the whole month). Each rule gets a
`BucketSeries` over its usual reach in which the ranges it reads are exactly as stored.
"""
from __future__ import annotations

from collections import defaultdict

from webapp.alerting.kinds import RuleParams, get_kind
from webapp.alerting.windows import BucketSeries, history_starts, load_buckets, slot_end


def window_series(session, rules_slots) -> dict[int, BucketSeries]:
    """Rule id -> the buckets its window evaluation reads, for the enabled window-kind rules of
    the (rule, slot) pairs."""
    window = [(rule, slot) for rule, slot in rules_slots if rule.enabled and get_kind(rule.kind).mode == "window"]
    firsts = history_starts(session, [rule.monitor_id for rule, _ in window])
    wanted: dict[tuple, set[int]] = defaultdict(set)
    spans = {}
    for rule, slot in window:
        params, kind, end = RuleParams.of(rule), get_kind(rule.kind), slot_end(slot)
        for span in kind.reads(params, end, firsts[rule.monitor_id]):
            wanted[span].add(rule.monitor_id)
        spans[rule.id] = (rule.monitor_id, end - kind.reach(params), end)
    buckets = load_buckets(session, wanted)
    return {rid: BucketSeries(start, end, buckets[mid], firsts[mid]) for rid, (mid, start, end) in spans.items()}
