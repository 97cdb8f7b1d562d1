"""Lexicon suggestions mined from editors' label overrides, each with its backtested effect.

When editors keep moving mentions that hold one word from one label to another ("'sick' was
moved from negative to positive 14 times"), the word's valence is probably wrong for this
monitor. `suggest` counts, over the monitor's overridden mentions (`Mention.scored_label` ->
`Mention.label`), the words of VADER's lexicon (and the monitor's adjusted words) in mentions
moved the same way, keeps those moved at least MIN_MOVES times, and proposes a valence toward
the label they were moved to: of the candidate valences, the one that agrees best with the
overrides (fewest stored labels changed on a tie).

Each suggestion carries its backtest, computed before anything is applied, by re-scoring with
VADER plus the monitor's adjustments, with and without the suggested word:
  changed            how many stored mentions (of the newest MAX_SCAN holding the word) would
                     change label;
  agreement_before / agreement_after
                     the share of the monitor's overrides whose label the scorer gives.
Applying one is `lexicon.set_adjustment` (new mentions are scored with it from then on).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from webapp.ingest.models import Mention
from webapp.scoring import lexicon, sentiment

MIN_MOVES = 3
MAX_OVERRIDES = 5000     # the newest overrides mined
MAX_SCAN = 20_000        # the newest stored mentions holding a word, for `changed`
MAX_SUGGESTIONS = 10
CANDIDATES = {"positive": (1.5, 2.5, 3.5), "negative": (-1.5, -2.5, -3.5), "neutral": (0.0,)}
_WORD = re.compile(r"[^\W_][\w'-]*")


@dataclass(frozen=True)
class Suggestion:
    word: str
    moved_from: str
    moved_to: str
    moves: int
    current_valence: float | None   # the monitor's adjustment, else VADER's, else None
    valence: float
    changed: int
    scanned: int
    agreement_before: float
    agreement_after: float
    overrides: int

    @property
    def summary(self) -> str:
        sign = "+" if self.valence > 0 else ""
        return (f"'{self.word}' was moved from {self.moved_from} to {self.moved_to} {self.moves} times: "
                f"suggest {sign}{self.valence:g}")

    def as_dict(self) -> dict:
        return {"word": self.word, "moved_from": self.moved_from, "moved_to": self.moved_to,
                "moves": self.moves, "current_valence": self.current_valence, "valence": self.valence,
                "summary": self.summary,
                "backtest": {"changed": self.changed, "scanned": self.scanned, "overrides": self.overrides,
                             "agreement_before": self.agreement_before, "agreement_after": self.agreement_after}}


def words_of(text: str) -> set[str]:
    return set(_WORD.findall((text or "").lower()))


def moved_words(overrides: list[tuple[str, str, str]], known: set[str] | frozenset[str],
                min_moves: int = MIN_MOVES) -> list[tuple[str, str, str, int]]:
    """(word, from, to, times) for known words in >= min_moves overrides moved the same way,
    most moved first (pure). `overrides` holds (text, scored label, override label)."""
    counts: Counter = Counter()
    for text, old, new in overrides:
        if old == new:
            continue
        for word in words_of(text) & known:
            counts[(word, old, new)] += 1
    best: dict[str, tuple[str, str, int]] = {}
    for (word, old, new), n in counts.items():
        if n >= min_moves and (word not in best or n > best[word][2]):
            best[word] = (old, new, n)
    return sorted(((w, o, t, n) for w, (o, t, n) in best.items()), key=lambda x: (-x[3], x[0]))


def _agreement(labels: list[str], truth: list[str]) -> float:
    return round(sum(a == b for a, b in zip(labels, truth)) / len(truth), 4) if truth else 0.0


def _overrides(session, monitor_id: int) -> list[tuple[str, str, str]]:
    rows = session.execute(
        select(Mention.text, Mention.scored_label, Mention.label)
        .where(Mention.monitor_id == monitor_id, Mention.overridden_at.is_not(None))
        .order_by(Mention.overridden_at.desc(), Mention.id.desc()).limit(MAX_OVERRIDES)).all()
    return [(t, s or l, l) for t, s, l in rows]


def _holding(session, monitor_id: int, word: str) -> list[str]:
    """Texts of the newest stored mentions that hold `word` as a word."""
    pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    texts = session.execute(
        select(Mention.text).where(Mention.monitor_id == monitor_id, Mention.text.ilike(pattern, escape="\\"))
        .order_by(Mention.id.desc()).limit(MAX_SCAN)).scalars().all()
    return [t for t in texts if word in words_of(t)]


def backtest(session, monitor_id: int, word: str, valence: float,
             overrides: list[tuple[str, str, str]] | None = None,
             current: dict[str, float] | None = None) -> dict:
    """The effect of setting `word` to `valence` for this monitor, without applying it."""
    overrides = _overrides(session, monitor_id) if overrides is None else overrides
    current = lexicon.adjustments(session, monitor_id) if current is None else current
    trial = {**current, word: valence}
    texts, truth = [t for t, _, _ in overrides], [new for _, _, new in overrides]
    before = [s.label for s in sentiment.score_texts(texts, current)]
    after = [s.label for s in sentiment.score_texts(texts, trial)]
    holding = _holding(session, monitor_id, word)
    old = sentiment.score_texts(holding, current)
    new = sentiment.score_texts(holding, trial)
    return {"changed": sum(a.label != b.label for a, b in zip(old, new)), "scanned": len(holding),
            "overrides": len(truth), "agreement_before": _agreement(before, truth),
            "agreement_after": _agreement(after, truth)}


def suggest(session, monitor_id: int, limit: int = MAX_SUGGESTIONS) -> list[Suggestion]:
    """The monitor's lexicon suggestions, most moved word first, each with its backtest."""
    overrides = _overrides(session, monitor_id)
    if not overrides:
        return []
    current = lexicon.adjustments(session, monitor_id)
    base = sentiment.base_lexicon()
    known = set(base) | set(current)
    out = []
    for word, old, new, moves in moved_words(overrides, known)[:limit]:
        now = current.get(word, base.get(word))
        trials = [(v, backtest(session, monitor_id, word, v, overrides, current)) for v in CANDIDATES[new]
                  if v != now]
        if not trials:
            continue
        valence, result = max(trials, key=lambda vr: (vr[1]["agreement_after"], -vr[1]["changed"]))
        if result["agreement_after"] <= result["agreement_before"]:
            continue  # would not bring the scorer closer to the editors
        out.append(Suggestion(word, old, new, moves, now, valence, result["changed"], result["scanned"],
                              result["agreement_before"], result["agreement_after"], result["overrides"]))
    return out


def apply(session, monitor_id: int, word: str, user=None):
    """Apply the current suggestion for `word` (its valence); commits. LookupError when none."""
    word = (word or "").strip().lower()
    for found in suggest(session, monitor_id):
        if found.word == word:
            return found, lexicon.set_adjustment(session, monitor_id, word, found.valence, user)
    raise LookupError(f"no suggestion for {word!r} in monitor {monitor_id}")
