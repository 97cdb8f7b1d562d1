"""Per-monitor lexicon adjustments: words whose VADER valence a monitor changes ("sick" +2.5).

Adjustments are a layer over the VADER scorer. Ingest scores each batch through
`scorers.score_rows`, which reads the adjustments of the batch's monitors and scores each group
of (scorer, adjustments) as one batch with an analyzer whose lexicon carries them. The
analyzers are cached per process by the adjustments themselves (their content is the version:
a change made on any machine is seen by every worker at its next batch, and an analyzer is
built once per distinct set). Adjustments apply to mentions scored from then on; stored ones
keep their scores. Trained models (`model:<name>`) have no lexicon; an `ensemble:<name>`
monitor's VADER fallback uses the adjusted lexicon.
"""
from __future__ import annotations

from typing import Mapping

from sqlalchemy import delete, select

from webapp.scoring.models import VALENCE_MAX, VALENCE_MIN, LexiconAdjustment
from webapp.core.types import utcnow
from webapp.scoring import sentiment
from webapp.scoring.scorers.vader import VaderScorer

MAX_WORD = 64
MAX_PER_MONITOR = 500


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
