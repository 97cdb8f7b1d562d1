"""Scoring throughput: stock NLTK VADER against each scorer path, measured in the same run.

    .venv/bin/python bench/bench_scorers.py [--texts 6000] [--repeat 3]

Prints one line per figure, `name value unit`, then the ratios of each path against the stock
analyzer (`polarity_scores` in a loop) measured in this run, so machines can be compared by
ratio. The corpus is the bundled demo mentions, made unique (so no path gains from the
duplicate cache) and repeated to --texts. The trained model is fitted on VADER's own labels of
that corpus: its quality is beside the point here, only its speed. The pipeline path is
`scorers.score_rows` on one batch spread over three monitors (vader, model, ensemble), with the
model loaded from a temporary SQLite database as a worker would.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def corpus(n: int) -> list[str]:
    from common import demo_texts  # bench/common.py (this folder is on sys.path when run)

    texts = demo_texts()
    return [f"{texts[i % len(texts)]} ({i // len(texts)})" for i in range(n)]


def best_rate(fn, n: int, repeat: int) -> float:
    """Texts per second of the fastest of `repeat` runs of fn()."""
    from webapp.scoring import sentiment

    times = []
    for _ in range(repeat):
        sentiment.clear_caches()  # no run gains from texts scored by the one before
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return n / min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from flask_migrate import upgrade
    from nltk.sentiment.vader import SentimentIntensityAnalyzer

    from webapp import create_app
    from webapp.core.extensions import db
    from webapp.scoring import scorers, sentiment, training
    from webapp.monitors.services.manage import create_monitor

    texts = corpus(args.texts)
    n = len(texts)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="sentimon-bench-") as tmp:
        app = create_app({"INSTANCE_PATH": f"{tmp}/instance", "SECRET_KEY": "bench",
                          "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite",
                          "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp}/broker.sqlite",
                          "CELERY_RESULT_BACKEND": f"db+sqlite:///{tmp}/results.sqlite",
                          "BUS_CONSUMER_IN_WORKER": False})
        with app.app_context():
            upgrade(revision="heads")
            stock = SentimentIntensityAnalyzer(lexicon_file=sentiment.LEXICON_RESOURCE)
            figures["scorers.stock_vader"] = best_rate(lambda: [stock.polarity_scores(t) for t in texts], n, args.repeat)

            labelled = list(dict.fromkeys(texts[: min(n, 3000)]))
            pairs = [(t, s.label) for t, s in zip(labelled, sentiment.score_texts(labelled))]
            start = time.perf_counter()
            training.train_and_store(db.session, "bench", pairs)
            figures["scorers.train_seconds"] = time.perf_counter() - start

            for name in ("vader", "model:bench", "ensemble:bench"):
                scorer = scorers.get_scorer(db.session, name)
                figures[f"scorers.{name.replace(':', '_')}"] = best_rate(lambda: scorer.score_batch(texts), n, args.repeat)

            monitors = [create_monitor(db.session, f"bench {name}", "", [], scorer=name).id
                        for name in ("vader", "model:bench", "ensemble:bench")]
            rows = [{"monitor_id": monitors[i % 3], "text": t} for i, t in enumerate(texts)]
            figures["scorers.pipeline_score_rows"] = best_rate(lambda: scorers.score_rows(db.session, rows), n, args.repeat)
            model = scorers.get_scorer(db.session, "model:bench")
            figures["scorers.explain_model_ms"] = 1000 * statistics.median(
                _timed(lambda t=t: model.explain(t)) for t in texts[:200])
            figures["scorers.explain_vader_ms"] = 1000 * statistics.median(
                _timed(lambda t=t: scorers.vader_scorer().explain(t)) for t in texts[:200])
            db.session.remove()
            db.engine.dispose()

    from common import figure, goal  # bench/common.py: one `name: value unit (reference value, ratio)` line

    base = figures["scorers.stock_vader"]
    for name, value in figures.items():
        if name.endswith("_seconds"):
            figure(name, value, "s", "texts", n)
        elif name.endswith("_ms"):
            figure(name, value, "ms", "stock_vader_ms_per_text", 1000 / base)
        elif name != "scorers.stock_vader":
            figure(name, value, "texts/s", "stock_vader", base)
    goal("(2) the vader scorer path >= 2x stock VADER's throughput", figures["scorers.vader"] >= 2 * base)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    import common  # bench/common.py

    common.run(main)  # exits non-zero when a goal was missed
