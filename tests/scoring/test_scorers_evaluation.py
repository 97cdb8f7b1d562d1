"""Reading labelled files and measuring scorers (pure functions: no app, no database)."""
from __future__ import annotations

import numpy as np
import pytest

from webapp.scoring import evaluation, sentiment
from webapp.scoring.evaluation import LabelledFileError, label_scheme, normalize_label, read_labelled
from webapp.scoring.scorers import vader_scorer
from webapp.scoring.sentiment import Score

from tests.scorers_data import labelled_csv, labelled_rows


@pytest.mark.parametrize("spelling, label", [
    ("positive", "positive"), ("Positive", "positive"), ("POSITIVE", "positive"), (" pos ", "positive"),
    ("+", "positive"), ("neutral", "neutral"), ("Neutral", "neutral"), ("neu", "neutral"),
    ("Irrelevant", "neutral"), ("none", "neutral"), ("Mixed", "neutral"), ("negative", "negative"),
    ("NEG", "negative"), ("-", "negative"),
])
def test_label_spellings(spelling, label):
    assert normalize_label(spelling) == label


def test_unknown_spellings_are_not_guessed():
    for value in ("meh", "", "good-ish", "5"):
        assert normalize_label(value) is None
    assert normalize_label("1") is None  # a number means something only within its column's scheme


def test_numeric_label_schemes():
    assert label_scheme(["0", "4", "4", "0"]) == "sentiment140"
    assert label_scheme(["0", "2", "4"]) == "sentiment140"
    assert label_scheme(["-1", "0", "1"]) == "signed"
    assert label_scheme(["0", "1", "1"]) == "binary"
    assert label_scheme(["1", "3", "7"]) is None
    assert label_scheme(["positive", "Negative"]) is None
    assert [normalize_label(v, "sentiment140") for v in ("0", "2", "4")] == ["negative", "neutral", "positive"]
    assert [normalize_label(v, "signed") for v in ("-1", "0", "1")] == ["negative", "neutral", "positive"]
    assert [normalize_label(v, "binary") for v in ("0", "1")] == ["negative", "positive"]
    assert normalize_label("3", "sentiment140") is None


def test_sentiment140_file_and_an_unknown_numeric_scheme():
    data = read_labelled('polarity,id,text\n0,1,"awful"\n4,2,"lovely"\n2,3,"a table"\n')
    assert data.label_scheme == "sentiment140" and data.label_column == "polarity"
    assert [r.label for r in data.rows] == ["negative", "positive", "neutral"]
    odd = read_labelled("label,text\n3,a\n7,b\npositive,c\n")
    assert [r.label for r in odd.rows] == ["positive"]
    assert odd.bad == [(2, "numeric label in an unknown scheme"), (3, "numeric label in an unknown scheme")]


def test_reads_the_generated_file_with_every_spelling():
    data = read_labelled(labelled_csv())
    assert data.bad == [] and len(data.rows) == 300
    assert (data.delimiter, data.text_column, data.label_column) == (",", "text", "sentiment")
    assert [r.label for r in data.rows] == [label for _, label, _ in labelled_rows()]
    assert data.rows[0].line == 2 and data.rows[-1].line == 301


def test_tsv_is_sniffed_and_headers_are_case_insensitive():
    data = read_labelled("ID\tTweet\tClass\n1\tI love it, really\tPositive\n2\tmeh, whatever\tIrrelevant\n")
    assert data.delimiter == "\t" and data.text_column == "Tweet" and data.label_column == "Class"
    assert [(r.text, r.label) for r in data.rows] == [("I love it, really", "positive"), ("meh, whatever", "neutral")]


def test_malformed_rows_are_reported_with_line_numbers_and_never_fatal():
    text = (
        "id,label,text,score\n"          # line 1
        "1,positive,I love it,0.9\n"     # 2 ok
        "2,positive,,0.5\n"              # 3 empty text
        "3,meh,so so,0.1\n"              # 4 unknown label
        "4,negative,too,many,fields\n"   # 5 field count
        "5,negative,bad score,abc\n"     # 6 score not a number
        "6,,no label and no score,\n"    # 7 nothing to judge by
        '7,neutral,"a quoted, text\nover two lines",0\n'  # 8-9 ok (one record)
        "\n"                             # 10 blank: not a row
        "8,negative,short\n"             # 11 too few fields
        "9,,only a score,-0.8\n"         # 12 ok: label from the score
        "10,neg,nan score,nan\n"         # 13 not finite
    )
    data = read_labelled(text)
    assert data.bad == [
        (3, "empty text"),
        (4, "unknown label 'meh'"),
        (5, "expected 4 fields, found 5"),
        (6, "score 'abc' is not a number"),
        (7, "no label or score"),
        (11, "expected 4 fields, found 3"),
        (13, "score 'nan' is not a finite number"),
    ]
    assert [(r.line, r.label, r.score) for r in data.rows] == [
        (2, "positive", 0.9), (9, "neutral", 0.0), (12, "negative", -0.8)]
    assert data.rows_read == 10
    report = evaluation.evaluate_scorer(vader_scorer(), data)
    assert report["n"] == 3 and report["bad_rows"] == 7
    assert report["bad"][0] == {"line": 3, "reason": "empty text"}


def test_whole_file_problems_raise():
    with pytest.raises(LabelledFileError, match="no text column"):
        read_labelled("id,label\n1,positive\n")
    with pytest.raises(LabelledFileError, match="no label or score column"):
        read_labelled("id,text\n1,hello\n")
    with pytest.raises(LabelledFileError, match="empty"):
        read_labelled("")
    data = read_labelled("text,label\n" + "x" * 200_000 + ",positive\nfine,negative\n")
    assert data.bad and data.bad[0][0] == 2 and "unreadable row" in data.bad[0][1]
    assert [r.text for r in data.rows] == ["fine"]


def test_metrics_of_a_hand_checked_example():
    truth = ["positive", "positive", "negative", "negative", "neutral"]
    predicted = [Score(0.5, 0, 0, 0, "positive"), Score(-0.5, 0, 0, 0, "negative"),
                 Score(-0.5, 0, 0, 0, "negative"), Score(0.0, 0, 0, 0, "neutral"),
                 Score(0.0, 0, 0, 0, "neutral")]
    report = evaluation.evaluate(truth, predicted)
    assert report["accuracy"] == 0.6
    # positive P=1 R=.5 F=.6667; negative P=.5 R=.5 F=.5; neutral P=.5 R=1 F=.6667
    assert report["classes"]["positive"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert report["classes"]["negative"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert report["classes"]["neutral"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    assert report["macro_f1"] == round((2 / 3 + 0.5 + 2 / 3) / 3, 4)
    assert report["confusion"]["matrix"] == [[1, 0, 1], [0, 1, 0], [0, 1, 1]]
    assert report["pearson_r"] is None and "pearson_n" not in report


def test_macro_f1_is_over_the_classes_in_the_ground_truth():
    truth = ["positive", "negative"]
    predicted = [Score(0.5, 0, 0, 0, "positive"), Score(0.0, 0, 0, 0, "neutral")]
    report = evaluation.evaluate(truth, predicted)
    assert report["macro_over"] == ["positive", "negative"]
    assert report["macro_f1"] == 0.5  # positive F1 1.0, negative F1 0.0; neutral is not judged


def test_numeric_scores_give_pearson_r_and_labels():
    texts = ["I love this so much", "this is terrible and sad", "a chair", "good enough I guess",
             "worst day ever", "great, just great"]
    truth = [0.9, -0.8, 0.0, 0.3, -0.9, 0.6]
    body = "text,score\n" + "".join(f'"{t}",{s}\n' for t, s in zip(texts, truth))
    data = read_labelled(body)
    assert data.score_scale == "as-is" and data.has_scores
    assert [r.label for r in data.rows] == ["positive", "negative", "neutral", "positive", "negative", "positive"]
    report = evaluation.evaluate_scorer(vader_scorer(), data)
    compounds = [sentiment.score_text(t).compound for t in texts]
    assert report["pearson_r"] == round(float(np.corrcoef(truth, compounds)[0, 1]), 4)
    assert report["pearson_n"] == 6 and report["pearson_r"] > 0.8


def test_star_ratings_are_mapped_to_labels():
    data = read_labelled("review,rating,content\n1,5,great\n2,1,bad\n3,3,ok\n4,4,fine\n5,2,poor\n")
    assert data.score_scale == "stars" and data.score_column == "rating" and data.text_column == "content"
    assert [r.label for r in data.rows] == ["positive", "negative", "neutral", "positive", "negative"]
    other = read_labelled("text,score\na,0\nb,10\nc,5\n")
    assert other.score_scale == "min-max" and [r.label for r in other.rows] == ["negative", "positive", "neutral"]
