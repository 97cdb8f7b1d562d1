"""Measure a scorer on labelled data: read a labelled CSV/TSV, normalise its labels, compute metrics.

Pure functions (no database, no Flask): `read_labelled` turns file text into rows and a list of
malformed rows (line number and reason; never fatal), `evaluate` compares ground truth with
scores, `evaluate_scorer` scores the rows with any scorer (anything with `score_batch`).

The file
--------
A header row is required; header names are case-insensitive. The delimiter is sniffed from the
header (tab, comma, semicolon or pipe: the first that yields a known text column).

* text column: ``text``, ``content``, ``tweet`` (also ``body``, ``message``, ``sentence``);
* label column: ``label``, ``sentiment``, ``class`` (also ``polarity``, ``target``);
* score column: ``score``, ``rating``, ``compound``.

A file needs a text column and at least one of a label or a score column.

Label rules (case and surrounding spaces ignored)
-------------------------------------------------
* positive: ``positive``, ``pos``, ``+``;
* neutral: ``neutral``, ``neu``, ``irrelevant``, ``none``, ``mixed``, ``objective``, ``other``;
* negative: ``negative``, ``neg``, ``-``.

``irrelevant`` rows are also flagged (`LabelledRow.irrelevant`): a file with them is a
four-class file, from which `train-scorer` trains sentiment on the other rows and a relevance
model on irrelevant against the rest. A headerless file whose rows are (id, entity, sentiment,
text), as the Twitter entity-sentiment data set ships, is read with that header.

Whole numbers in a label column are read by the scheme the whole column follows:

* only ``-1``/``0``/``1``, with a ``-1`` somewhere: signed (-1 negative, 0 neutral, 1 positive);
* only ``0``/``1``: binary (0 negative, 1 positive), as in IMDB- or SST-2-style sets;
* only ``0``/``2``/``4``: Sentiment140 (0 negative, 2 neutral, 4 positive);
* anything else: those rows are malformed ("numeric label in an unknown scheme").

Numeric scores
--------------
A score column is numeric ground truth. Values that all lie in [-1, 1] are taken as they are;
values that all lie in [1, 5] are star ratings, mapped linearly to [-1, 1] (3 stars = 0); any
other range is mapped linearly from the column's own minimum and maximum to [-1, 1]. Rows
without a label get the label of their mapped score by the usual rule (positive >= 0.05,
negative <= -0.05, neutral otherwise). The Pearson correlation of the raw scores with the
scorer's compound is reported (a linear mapping does not change it).

Metrics
-------
accuracy and macro-F1 also per detected language (`by_language`); macro-F1 averaged over the
classes that occur in the ground truth (a class nobody
labelled cannot be judged, though predicting it still costs the others recall); per-class
precision, recall, F1 and support for all three labels; the confusion matrix (rows: truth,
columns: predicted, in the order positive, neutral, negative); Pearson r for numeric truth.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from webapp.core.limits import MAX_TEXT
from webapp.scoring.sentiment import label_for

LABELS = ("positive", "neutral", "negative")
TEXT_COLUMNS = ("text", "content", "tweet", "body", "message", "sentence")
LABEL_COLUMNS = ("label", "sentiment", "class", "polarity", "target")
SCORE_COLUMNS = ("score", "rating", "compound")
DELIMITERS = ("\t", ",", ";", "|")
MAX_BAD_SHOWN = 100

_WORDS = {
    **{w: "positive" for w in ("positive", "pos", "+")},
    **{w: "neutral" for w in ("neutral", "neu", "irrelevant", "none", "mixed", "objective", "other")},
    **{w: "negative" for w in ("negative", "neg", "-")},
}
_SCHEMES = {
    "signed": {-1: "negative", 0: "neutral", 1: "positive"},
    "binary": {0: "negative", 1: "positive"},
    "sentiment140": {0: "negative", 2: "neutral", 4: "positive"},
}


class LabelledFileError(ValueError):
    """The file as a whole cannot be read (no header, no text column, no label or score column)."""


@dataclass
class LabelledRow:
    line: int
    text: str
    label: str
    score: float | None = None  # the raw numeric ground truth, when the file has a score column
    irrelevant: bool = False    # labelled "irrelevant" (four-class files): label is then neutral


@dataclass
class LabelledFile:
    rows: list[LabelledRow] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    delimiter: str = ","
    text_column: str = ""
    label_column: str | None = None
    score_column: str | None = None
    label_scheme: str | None = None  # signed | binary | sentiment140 for numeric labels
    score_scale: str | None = None  # as-is | stars | min-max
    headerless: bool = False  # the four-column entity file without a header row

    @property
    def four_class(self) -> bool:
        """Does the file hold an `irrelevant` class beside the three sentiments?"""
        return any(r.irrelevant for r in self.rows)

    @property
    def rows_read(self) -> int:
        return len(self.rows) + len(self.bad)

    @property
    def has_scores(self) -> bool:
        return any(r.score is not None for r in self.rows)


def _whole_number(value: str) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number == int(number) else None


def label_scheme(values: Sequence[str]) -> str | None:
    """The scheme that the whole numbers of a label column follow (see the module docstring)."""
    numbers = {n for n in (_whole_number(v.strip()) for v in values if v and v.strip()) if n is not None}
    if not numbers:
        return None
    if numbers <= {-1, 0, 1} and -1 in numbers:
        return "signed"
    if numbers <= {0, 1}:
        return "binary"
    if numbers <= {0, 2, 4}:
        return "sentiment140"
    return None


def normalize_label(value: str, scheme: str | None = None) -> str | None:
    """positive / neutral / negative for a label spelling, or None when it means nothing known."""
    word = (value or "").strip().lower()
    if word in _WORDS:
        return _WORDS[word]
    number = _whole_number(word) if word else None
    if number is not None and scheme:
        return _SCHEMES[scheme].get(number)
    return None


def score_scale(values: Sequence[float]) -> tuple[str, Callable[[float], float]]:
    """How a score column maps to [-1, 1]: its name and the mapping."""
    if not values:
        return "as-is", lambda x: x
    low, high = min(values), max(values)
    if low >= -1 and high <= 1:
        return "as-is", lambda x: x
    if low >= 1 and high <= 5:
        return "stars", lambda x: (x - 3) / 2
    if high == low:
        return "min-max", lambda x: 0.0
    return "min-max", lambda x: 2 * (x - low) / (high - low) - 1


def _pick(header: list[str], names: Sequence[str]) -> int | None:
    lowered = [h.strip().lower().lstrip("\ufeff") for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def _delimiter(first_line: str) -> str:
    for delimiter in DELIMITERS:
        header = next(csv.reader([first_line], delimiter=delimiter), [])
        if _pick(header, TEXT_COLUMNS) is not None:
            return delimiter
    try:
        return csv.Sniffer().sniff(first_line, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        return ","


def _records(handle: io.StringIO, delimiter: str):
    """(line number, fields or None, error or None); a row the csv module rejects is reported."""
    reader = csv.reader(handle, delimiter=delimiter)
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, None, f"unreadable row: {exc}"
            continue
        if fields:  # blank lines are not rows
            yield reader.line_num, fields, None


ENTITY_COLUMNS = ("id", "entity", "sentiment", "text")


def _entity_file(first_line: str) -> str | None:
    """The delimiter of a headerless four-column entity-sentiment file (id, entity, sentiment,
    text: the Twitter entity-sentiment data set), judged by its first row; None otherwise."""
    for delimiter in DELIMITERS:
        fields = next(csv.reader([first_line], delimiter=delimiter), [])
        if _pick(fields, TEXT_COLUMNS) is not None:
            return None  # a header row
        if len(fields) == 4 and fields[2].strip().lower() in _WORDS and fields[3].strip():
            return delimiter
    return None


def read_labelled(text: str) -> LabelledFile:
    """Read a labelled CSV/TSV from its text; malformed rows are listed, never fatal.

    A file without a header row whose rows are (id, entity, sentiment, text), like the Twitter
    entity-sentiment data set, is read as if it had that header (line numbers stay the file's).
    """
    text = text.lstrip("\ufeff").replace("\x00", "")
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if not first_line.strip():
        raise LabelledFileError("the file is empty or does not start with a header row")
    entity_delimiter = _entity_file(first_line)
    if entity_delimiter is not None:
        out = read_labelled(entity_delimiter.join(ENTITY_COLUMNS) + "\n" + text)
        out.headerless = True
        out.bad = [(line - 1, reason) for line, reason in out.bad]
        for row in out.rows:
            row.line -= 1
        return out
    out = LabelledFile(delimiter=_delimiter(first_line))
    records = _records(io.StringIO(text, newline=""), out.delimiter)
    _, header, error = next(records, (1, None, "no header row"))
    if header is None:
        raise LabelledFileError(error or "no header row")
    text_at, label_at, score_at = (_pick(header, names) for names in (TEXT_COLUMNS, LABEL_COLUMNS, SCORE_COLUMNS))
    if text_at is None:
        raise LabelledFileError(f"no text column: name one of {', '.join(TEXT_COLUMNS)} in the header row")
    if label_at is None and score_at is None:
        raise LabelledFileError(
            f"no label or score column: name one of {', '.join(LABEL_COLUMNS + SCORE_COLUMNS)} in the header row")
    out.text_column = header[text_at].strip()
    out.label_column = header[label_at].strip() if label_at is not None else None
    out.score_column = header[score_at].strip() if score_at is not None else None

    # First pass: split fields; the label scheme and the score scale depend on the whole column.
    raw: list[tuple[int, str, str, float | None]] = []
    for line, fields, error in records:
        if fields is None:
            out.bad.append((line, error))
            continue
        if len(fields) != len(header):
            out.bad.append((line, f"expected {len(header)} fields, found {len(fields)}"))
            continue
        body = fields[text_at].strip()
        if not body:
            out.bad.append((line, "empty text"))
            continue
        score = None
        if score_at is not None and fields[score_at].strip():
            try:
                score = float(fields[score_at])
            except ValueError:
                out.bad.append((line, f"score {fields[score_at].strip()[:40]!r} is not a number"))
                continue
            if not math.isfinite(score):
                out.bad.append((line, f"score {fields[score_at].strip()[:40]!r} is not a finite number"))
                continue
        label = fields[label_at] if label_at is not None else ""
        raw.append((line, body[:MAX_TEXT], label, score))

    out.label_scheme = label_scheme([label for _, _, label, _ in raw])
    out.score_scale, to_unit = score_scale([s for *_, s in raw if s is not None])
    for line, body, label, score in raw:
        if label.strip():
            normalized = normalize_label(label, out.label_scheme)
            if normalized is None:
                reason = ("numeric label in an unknown scheme" if _whole_number(label.strip()) is not None
                          else f"unknown label {label.strip()[:40]!r}")
                out.bad.append((line, reason))
                continue
        elif score is not None:
            normalized = label_for(to_unit(score))
        else:
            out.bad.append((line, "no label or score"))
            continue
        out.rows.append(LabelledRow(line, body, normalized, score,
                                    irrelevant=label.strip().lower() == "irrelevant"))
    out.bad.sort()
    return out


def read_labelled_path(path: str | Path) -> LabelledFile:
    """`read_labelled` for a file on disk (UTF-8, a BOM allowed; undecodable bytes replaced)."""
    return read_labelled(Path(path).read_text(encoding="utf-8-sig", errors="replace"))


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r, or None when it is undefined (fewer than two points or no variance)."""
    import numpy as np

    if len(xs) < 2:
        return None
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if x.std() == 0 or y.std() == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def evaluate(truth: Sequence[str], predicted: Sequence, truth_scores: Sequence[float | None] | None = None) -> dict:
    """Metrics of `predicted` (Scores: `.label`, `.compound`) against `truth` labels.

    `truth_scores`, when given, holds the numeric ground truth (None where a row has none).
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    if len(truth) != len(predicted):
        raise ValueError("truth and predictions differ in length")
    labels = list(LABELS)
    y_true, y_pred = list(truth), [p.label for p in predicted]
    report = {"n": len(y_true), "accuracy": None, "macro_f1": None, "macro_over": [],
              "classes": {label: {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0} for label in labels},
              "confusion": {"labels": labels, "matrix": [[0] * 3 for _ in labels]}, "pearson_r": None}
    if y_true:
        present = [label for label in labels if label in set(y_true)]
        precision, recall, f1, support = precision_recall_fscore_support(
            y_true, y_pred, labels=labels, zero_division=0)
        report.update(
            accuracy=_r(accuracy_score(y_true, y_pred)),
            macro_f1=_r(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
            macro_over=present,
            classes={label: {"precision": _r(precision[i]), "recall": _r(recall[i]), "f1": _r(f1[i]),
                             "support": int(support[i])} for i, label in enumerate(labels)},
            confusion={"labels": labels,
                       "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
        )
    if truth_scores is not None:
        pairs = [(t, p.compound) for t, p in zip(truth_scores, predicted) if t is not None]
        report["pearson_r"] = _r(pearson([t for t, _ in pairs], [c for _, c in pairs]))
        report["pearson_n"] = len(pairs)
    return report


def evaluate_scorer(scorer, data: LabelledFile, name: str = "", chunk: int = 500,
                    progress: Callable[[int], None] | None = None) -> dict:
    """Score `data`'s rows with `scorer` in batches of `chunk` and report metrics and bad rows.

    `progress(n)` is called after each batch with the number of rows just scored.
    """
    predicted = []
    for start in range(0, len(data.rows), chunk):
        texts = [r.text for r in data.rows[start:start + chunk]]
        predicted.extend(scorer.score_batch(texts))
        if progress:
            progress(len(texts))
    truth = [r.label for r in data.rows]
    report = evaluate(truth, predicted, [r.score for r in data.rows] if data.score_column else None)
    report["by_language"] = by_language(truth, predicted, [r.text for r in data.rows])
    return {"scorer": name or getattr(scorer, "name", ""), **report, **file_summary(data)}


def by_language(truth: Sequence[str], predicted: Sequence, texts: Sequence[str]) -> list[dict]:
    """Accuracy and macro-F1 per detected language (insights/languages.py), most rows first:
    `{"lang", "n", "accuracy", "macro_f1", "read_by_vader"}`. VADER reads English (and `und`);
    on another language its figures show how far from the truth a false neutral is."""
    from webapp.insights.languages import detect_many, vader_reads

    groups: dict[str, list[int]] = {}
    for index, lang in enumerate(detect_many(list(texts))):
        groups.setdefault(lang, []).append(index)
    out = []
    for lang, indexes in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        part = evaluate([truth[i] for i in indexes], [predicted[i] for i in indexes])
        out.append({"lang": lang, "n": part["n"], "accuracy": part["accuracy"], "macro_f1": part["macro_f1"],
                    "read_by_vader": vader_reads(lang)})
    return out


def file_summary(data: LabelledFile) -> dict:
    """What the report says about the file itself: columns, schemes and the malformed rows."""
    return {
        "rows_read": data.rows_read,
        "bad_rows": len(data.bad),
        "bad": [{"line": line, "reason": reason} for line, reason in data.bad[:MAX_BAD_SHOWN]],
        "columns": {"text": data.text_column, "label": data.label_column, "score": data.score_column},
        "label_scheme": data.label_scheme,
        "score_scale": data.score_scale if data.score_column else None,
    }
