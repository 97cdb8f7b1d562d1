from webapp.scoring import sentiment


def test_contract_example_scores_as_vader_does():
    score = sentiment.score_text("I love this place! The food is amazing.")
    assert score.compound == 0.8516
    assert (score.pos, score.neu, score.neg) == (0.624, 0.376, 0.0)
    assert score.label == "positive"


def test_negative_and_neutral():
    assert sentiment.score_text("This is the worst service ever. Terrible!").label == "negative"
    assert sentiment.score_text("The shop opens at nine.").label == "neutral"


def test_label_thresholds_are_inclusive():
    assert sentiment.label_for(0.05) == "positive"
    assert sentiment.label_for(0.0499) == "neutral"
    assert sentiment.label_for(-0.05) == "negative"
    assert sentiment.label_for(-0.0499) == "neutral"


def test_batch_matches_single_and_keeps_order():
    texts = ["great", "awful", "great", "a table"]
    batch = sentiment.score_texts(texts)
    assert [s.compound for s in batch] == [sentiment.score_text(t).compound for t in texts]
    assert batch[0] is batch[2]  # identical texts scored once
