"""Per-monitor lexicon adjustments: words whose VADER valence a monitor changes ("sick" +2.5).

Adjustments are a layer over the VADER scorer. Ingest scores each batch through `score_rows`:
one query reads the adjustments of the batch's monitors; monitors without any go through the
ordinary per-monitor scorers (`scorers.score_rows`), the others are grouped by (scorer,
adjustments) and scored as one batch each with an analyzer whose lexicon carries them. The
analyzers are cached per process by the adjustments themselves (their content is the version:
a change made on any machine is seen by every worker at its next batch, and an analyzer is
built once per distinct set). Adjustments apply to mentions scored from then on; stored ones
keep their scores. Trained models (`model:<name>`) have no lexicon; an `ensemble:<name>`
monitor's VADER fallback uses the adjusted lexicon.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from typing import Mapping, Sequence

from sqlalchemy import delete, select

from webapp.scoring.lexicon_models import VALENCE_MAX, VALENCE_MIN, LexiconAdjustment
from webapp.monitors.models import Monitor
from webapp.core.types import utcnow
from webapp.scoring import scorers, sentiment
from webapp.scoring.scorers.vader import VaderScorer
from webapp.scoring.sentiment import Score

MAX_WORD = 64
MAX_PER_MONITOR = 500
log = logging.getLogger(__name__)


class LexiconInvalid(ValueError):
    """Validation errors keyed by field (`word`, `valence`)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def clean(word, valence) -> tuple[str, float]:
    """(lower-case word, valence) after checking them; raises LexiconInvalid (pure).

    A word is one token as VADER sees it: no spaces, at least two characters (VADER drops
    one-character tokens), at most 64. The valence is a number from -4 to 4, as in VADER's lexicon.
    """
    errors = {}
    word = word.strip().lower() if isinstance(word, str) else ""
    if not word:
        errors["word"] = "enter a word"
    elif any(ch.isspace() for ch in word):
        errors["word"] = "one word only: VADER scores single words, not phrases"
    elif len(word) < 2:
        errors["word"] = "VADER ignores one-character words"
    elif len(word) > MAX_WORD:
        errors["word"] = f"at most {MAX_WORD} characters"
    try:
        number = float(valence) if not isinstance(valence, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or number != number:  # None or NaN
        errors["valence"] = "enter a number from -4 to 4"
    elif not VALENCE_MIN <= number <= VALENCE_MAX:
        errors["valence"] = "the valence must be from -4 (most negative) to 4 (most positive)"
    if errors:
        raise LexiconInvalid(errors)
    return word, round(number, 3)


def adjustments(session, monitor_id: int) -> dict[str, float]:
    """The monitor's adjustments as {word: valence}."""
    return dict(session.execute(
        select(LexiconAdjustment.word, LexiconAdjustment.valence).where(LexiconAdjustment.monitor_id == monitor_id)
    ).all())


def list_adjustments(session, monitor_id: int) -> list[LexiconAdjustment]:
    return list(session.execute(
        select(LexiconAdjustment).where(LexiconAdjustment.monitor_id == monitor_id).order_by(LexiconAdjustment.word)
    ).scalars())


def set_adjustment(session, monitor_id: int, word, valence, user=None) -> LexiconAdjustment:
    """Add or change the monitor's valence for `word`; commits. Raises LexiconInvalid."""
    word, valence = clean(word, valence)
    found = session.execute(select(LexiconAdjustment).where(
        LexiconAdjustment.monitor_id == monitor_id, LexiconAdjustment.word == word)).scalar_one_or_none()
    if found is None:
        count = len(adjustments(session, monitor_id))
        if count >= MAX_PER_MONITOR:
            raise LexiconInvalid({"word": f"a monitor has at most {MAX_PER_MONITOR} adjusted words"})
        found = LexiconAdjustment(monitor_id=monitor_id, word=word)
        session.add(found)
    found.valence = valence
    found.created_by_id = getattr(user, "id", None)
    found.created_at = utcnow()
    session.commit()
    return found


def remove_adjustment(session, monitor_id: int, word: str) -> bool:
    """Remove the monitor's adjustment of `word`; commits. False when there was none."""
    word = word.strip().lower() if isinstance(word, str) else ""
    done = session.execute(delete(LexiconAdjustment).where(
        LexiconAdjustment.monitor_id == monitor_id, LexiconAdjustment.word == word))
    session.commit()
    return bool(done.rowcount)


def adjustment_dict(adjustment: LexiconAdjustment) -> dict:
    return {"word": adjustment.word, "valence": adjustment.valence,
            "base_valence": base_valence(adjustment.word),
            "created_by": adjustment.created_by.email if adjustment.created_by else None,
            "created_at": adjustment.created_at.isoformat() if adjustment.created_at else None}


def base_valence(word: str) -> float | None:
    """VADER's own valence of `word` (None when the lexicon does not have it)."""
    return sentiment.analyzer().lexicon.get(word)


# -- scoring with adjustments -------------------------------------------------------------------

def adjusted_vader(overrides: Mapping[str, float]) -> VaderScorer:
    """VADER with these adjustments as a scorer (`score_batch`, `explain`).

    Cheap to make: the analyzer behind it is `sentiment.fast_analyzer(overrides)`, built once per
    distinct set of adjustments and cached per process there.
    """
    return VaderScorer(overrides)


def highlight_analyzers(session, monitor_id: int):
    """A function giving, for a stored mention, the analyzer that explains its score.

    A mention is explained with the adjustments that existed when it was scored (those set
    before it was ingested), so its highlighted words agree with its stored score; later
    adjustments apply to newer mentions only. (An adjustment removed since is not known any
    more: such a mention is explained with VADER's own valence for that word.)
    """
    found = session.execute(
        select(LexiconAdjustment.word, LexiconAdjustment.valence, LexiconAdjustment.created_at)
        .where(LexiconAdjustment.monitor_id == monitor_id)
    ).all()

    def for_mention(mention) -> object:
        scored_at = getattr(mention, "ingested_at", None)
        return sentiment.fast_analyzer(
            {w: v for w, v, t in found if scored_at is None or t is None or t <= scored_at})

    return for_mention


def score_rows(session, rows: Sequence[dict]) -> list[Score]:
    """Scores of `rows` (each with monitor_id and text): each monitor's scorer, its adjustments applied.

    The drop-in for `scorers.score_rows` at ingest; costs one more query per batch (the
    adjustments of the batch's monitors), and nothing more for monitors without adjustments.
    """
    rows = list(rows)
    if not rows:
        return []
    monitor_ids = {row["monitor_id"] for row in rows}
    found: dict[int, dict[str, float]] = defaultdict(dict)
    for monitor_id, word, valence in session.execute(
            select(LexiconAdjustment.monitor_id, LexiconAdjustment.word, LexiconAdjustment.valence)
            .where(LexiconAdjustment.monitor_id.in_(monitor_ids))):
        found[monitor_id][word] = valence
    if not found:
        return scorers.score_rows(session, rows)
    plain = [i for i, row in enumerate(rows) if row["monitor_id"] not in found]
    out: list[Score | None] = [None] * len(rows)
    for index, score in zip(plain, scorers.score_rows(session, [rows[i] for i in plain])):
        out[index] = score
    chosen = dict(session.execute(select(Monitor.id, Monitor.scorer).where(Monitor.id.in_(found))).all())
    groups: dict[tuple, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        if row["monitor_id"] in found:
            key = (chosen.get(row["monitor_id"]) or scorers.DEFAULT, tuple(sorted(found[row["monitor_id"]].items())))
            groups[key].append(index)
    for (name, overrides), indexes in groups.items():
        scorer = layered(session, name, dict(overrides))
        for index, score in zip(indexes, scorer.score_batch([rows[i]["text"] for i in indexes])):
            out[index] = score
    return out


def layered(session, name: str, overrides: dict[str, float]):
    """The scorer `name` with the adjustments layered over its VADER part (if it has one)."""
    vader = adjusted_vader(overrides)
    try:
        base = scorers.get_scorer(session, name)
    except Exception:  # noqa: BLE001 - as scorers.score_rows: a broken model falls back to VADER
        log.warning("scorer %r cannot be loaded; scoring with adjusted VADER instead", name, exc_info=True)
        return vader
    if isinstance(base, scorers.EnsembleScorer):
        return scorers.EnsembleScorer(base.model, vader, base.threshold)
    return vader if base.kind == "vader" else base
