"""Scorer benchmark (issue #8, goal 2): the fast VADER against NLTK's stock analyzer, same run.

    .venv/bin/python bench/bench_vader.py [--texts 20000] [--repeat 3] [--duplicates 0.15]

Corpora: realistic mentions (tests/vader_corpus.py: varied lengths, emoji, URLs, capitals,
punctuation runs, negations, "but", "kind of", idioms, `--duplicates` exact repeats as retweets
produce), the same without its duplicates, and the pipeline benchmark's corpus
(bench/common.py `corpus`). For each: every text scored by both analyzers and compared (all four
of compound/pos/neu/neg, exactly), then the best of `--repeat` timed runs of each: stock
`polarity_scores` in a loop, against `sentiment.score_texts` (what ingest calls) in batches of
500 with both of the fast analyzer's caches (texts, tokens) emptied before every run, so a run
gains only from repeats inside its own corpus. Time is this process's CPU time
(`time.process_time`; both paths are single-threaded), so other load on a shared machine does not
skew the ratio. Prints `name: value unit (reference value, ratio)`.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import common  # noqa: E402  (bench/common.py: figure lines, the pipeline corpus)

BATCH = 500


def _best(fn, repeat: int, before=None) -> float:
    times = []
    for _ in range(repeat):
        if before:
            before()
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def measure(name: str, texts: list[str], repeat: int, stock, verdicts: dict) -> None:
    from webapp.scoring import sentiment, vader_fast

    fast = sentiment.fast_analyzer()

    def cold():
        fast.cache_clear()
        vader_fast._token.clear()

    def run_fast():
        for start in range(0, len(texts), BATCH):
            sentiment.score_texts(texts[start:start + BATCH])

    def run_stock():
        for text in texts:
            stock.polarity_scores(text)

    cold()
    start = time.process_time()
    wanted = [stock.polarity_scores(text) for text in texts]
    stock_s = time.process_time() - start  # the comparison run counts as the first stock run
    wrong = 0
    for want, score in zip(wanted, sentiment.score_texts(texts)):
        if (score.compound, score.pos, score.neu, score.neg) != \
                (want["compound"], want["pos"], want["neu"], want["neg"]):
            wrong += 1
    fast_s = float("inf")
    for attempt in range(repeat):  # interleaved, so both see the same machine load
        if attempt:
            stock_s = min(stock_s, _best(run_stock, 1))
        fast_s = min(fast_s, _best(run_fast, 1, before=cold))
    n = len(texts)
    common.figure(f"{name}_identical", int(wrong == 0), "bool", "stock", 1)
    common.figure(f"{name}_mismatches", wrong, "texts", "corpus", n)
    result = common.figure(f"{name}_throughput", n / fast_s, "texts/s", "stock", n / stock_s)
    verdicts[name] = (wrong == 0, result["ratio"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--duplicates", type=float, default=0.15)
    args = parser.parse_args()

    from tests import vader_corpus
    from webapp.scoring import sentiment

    stock = sentiment.analyzer()  # NLTK's SentimentIntensityAnalyzer with the installed lexicon
    realistic = vader_corpus.realistic(args.texts, seed=8, duplicate_share=args.duplicates)
    unique = list(dict.fromkeys(realistic))
    pipeline = [item["text"] for item in common.corpus(args.texts)]
    common.note(f"vader corpus: {len(realistic)} texts, {len(realistic) - len(unique)} exact duplicates "
                f"({(len(realistic) - len(unique)) / len(realistic):.0%}), "
                f"mean {sum(map(len, realistic)) / len(realistic):.0f} chars")
    verdicts: dict = {}
    measure("vader_fast", realistic, args.repeat, stock, verdicts)
    measure("vader_fast_unique", unique, args.repeat, stock, verdicts)
    measure("vader_fast_pipeline_corpus", pipeline, args.repeat, stock, verdicts)
    for name, (identical, ratio) in verdicts.items():
        common.goal(f"{name}: identical to stock VADER and >= 2x its throughput "
                    f"(identical={identical}, {ratio:.2f}x)", identical and ratio >= 2)


if __name__ == "__main__":
    common.run(main)  # exits non-zero when a goal was missed
