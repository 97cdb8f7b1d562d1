"""Alert rule kinds by name: the registry that the request shape, the web form, evaluation,
backtests, payloads and the rules page look up instead of comparing kind strings.

Adding a kind: write `webapp/alerting/kinds/<kind>.py` with a RuleKind subclass (its fields,
checks, evaluation and mode) and add one `register(...)` line below.
"""
from __future__ import annotations

from webapp.alerting.kinds.avg_sentiment import AvgSentiment
from webapp.alerting.kinds.base import KindField, Observation, RuleKind, RuleParams
from webapp.alerting.kinds.mention_match import MentionMatch
from webapp.alerting.kinds.negative_share import NegativeShare
from webapp.alerting.kinds.registry import REGISTRY, UnknownRuleKind, all_kinds, get_kind, register, unregister
from webapp.alerting.kinds.silence import Silence
from webapp.alerting.kinds.source_down import SourceDown
from webapp.alerting.kinds.volume_spike import VolumeSpike

register(AvgSentiment())
register(NegativeShare())
register(VolumeSpike())
register(MentionMatch())
register(Silence())
register(SourceDown())

__all__ = [
    "REGISTRY", "KindField", "Observation", "RuleKind", "RuleParams", "UnknownRuleKind", "all_kinds",
    "get_kind", "register", "unregister",
]
