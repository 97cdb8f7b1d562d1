"""The naive design that benchmark (1) compares the pipeline with: one Celery task per mention,
which scores it with NLTK's stock VADER and inserts one row (and commits).

Loaded by benchmark workers through CELERY_EXTRA_IMPORTS=bench.naive_tasks; never by the app.
The analyzer is built once per worker process (building it per task would be a straw man).
"""
from __future__ import annotations

from datetime import datetime, timezone

from celery import shared_task

_analyzer = None


def _stock():
    global _analyzer
    if _analyzer is None:
        from nltk.sentiment.vader import SentimentIntensityAnalyzer

        from webapp.scoring.sentiment import LEXICON_RESOURCE

        _analyzer = SentimentIntensityAnalyzer(lexicon_file=LEXICON_RESOURCE)
    return _analyzer


@shared_task(name="bench.naive_store", ignore_result=True)
def naive_store(monitor_id: int, source_id: int, external_id: str, text: str,
                published_at: str) -> None:
    from webapp.core.extensions import db
    from webapp.ingest.models import Mention
    from webapp.scoring.sentiment import label_for
    from webapp.core.sql import insert_for

    s = _stock().polarity_scores(text)
    row = dict(monitor_id=monitor_id, source_id=source_id, external_id=external_id, text=text,
               published_at=datetime.fromisoformat(published_at), ingested_at=datetime.now(timezone.utc),
               compound=s["compound"], pos=s["pos"], neu=s["neu"], neg=s["neg"], label=label_for(s["compound"]))
    db.session.execute(insert_for(db.session.get_bind())(Mention).values(**row).on_conflict_do_nothing())
    db.session.commit()
