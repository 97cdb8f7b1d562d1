"""A small labelled set made from templates with a fixed seed, for the scorer tests.

Domain slang ("sick", "killer", "insane", "wicked") is praise here, which VADER reads as
negative; a model trained on these labels learns it. Labels come in the spellings real files
use (Positive, POSITIVE, pos, Irrelevant, Neutral, neg...), so reading them exercises the rules.
About 5% of the labels are flipped on purpose (annotator noise), so no scorer is perfect.
"""
from __future__ import annotations

import csv
import io
import random

PRODUCTS = ["Zephyr X2", "Acme Rocket", "Nimbus Pad", "Orbit Buds", "Kestrel 5", "Lumen Cam"]
OPENERS = ["", "ngl ", "honestly ", "ok so ", "lol ", "yo "]
CLOSERS = ["", " fr", " tbh", " today", " #tech", "!!"]
TEMPLATES = {
    "positive": [
        "the new {p} is sick",
        "{p} battery life is killer",
        "that {p} camera is insane",
        "{p} is wicked fast",
        "sick drop from {p}, the screen is killer",
        "i love my {p}, best purchase this year",
        "{p} support fixed it in minutes, great team",
    ],
    "neutral": [
        "{p} ships on tuesday",
        "anyone tried the {p} yet",
        "{p} firmware 2.1 is out",
        "the {p} store opens at 9",
        "is the {p} available in blue",
        "unboxing the {p} later on stream",
    ],
    "negative": [
        "{p} crashed again and i lost my work",
        "worst {p} update ever, battery drains in an hour",
        "{p} is a waste of money",
        "my {p} broke after a day, want a refund",
        "{p} support ignored me for two weeks, awful",
        "the {p} screen cracked, terrible build",
    ],
}
NOISE = 0.05
SPELLINGS = {
    "positive": ["positive", "Positive", "POSITIVE", "pos"],
    "neutral": ["neutral", "Neutral", "Irrelevant", "neu"],
    "negative": ["negative", "Negative", "NEGATIVE", "neg"],
}


def labelled_rows(n: int = 300, seed: int = 7) -> list[tuple[str, str, str]]:
    """(text, label, spelling as written in the file): n rows, classes in turn."""
    rng = random.Random(seed)
    rows = []
    labels = list(TEMPLATES)
    for i in range(n):
        label = labels[i % 3]
        text = rng.choice(OPENERS) + rng.choice(TEMPLATES[label]).format(p=rng.choice(PRODUCTS)) + rng.choice(CLOSERS)
        if rng.random() < NOISE:  # annotators disagree now and then: no scorer gets these right
            label = rng.choice([other for other in labels if other != label])
        rows.append((text, label, rng.choice(SPELLINGS[label])))
    return rows


def labelled_csv(n: int = 300, seed: int = 7, delimiter: str = ",") -> str:
    """The rows as a labelled file with columns id, entity, sentiment, text."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["id", "entity", "sentiment", "text"])
    for i, (text, _, spelling) in enumerate(labelled_rows(n, seed), start=1):
        writer.writerow([i, "gadgets", spelling, text])
    return out.getvalue()


# What training on labelled_csv() (300 rows, seed 7) with the default 20% stratified hold-out
# (random_state 0) gives on its 60 held-out rows. Deterministic: fixed data, split and solver.
HELD_OUT = 60
EXPECTED_MODEL = {"accuracy": 0.9, "macro_f1": 0.9005,
                  "confusion": [[19, 0, 1], [2, 18, 0], [2, 1, 17]]}
EXPECTED_VADER = {"accuracy": 0.4833, "macro_f1": 0.4706,
                  "confusion": [[5, 0, 15], [11, 8, 1], [2, 2, 16]]}


def train_model(app, name: str = "gadgets", n: int = 300, seed: int = 7):
    """Train and store model `name` on labelled_csv(n, seed); returns the TrainingResult."""
    from webapp.core.extensions import db
    from webapp.scoring import evaluation, training

    with app.app_context():
        data = evaluation.read_labelled(labelled_csv(n, seed))
        _, result = training.train_and_store(db.session, name, [(r.text, r.label) for r in data.rows])
        db.session.remove()
        return result


def template_label(text: str) -> str | None:
    """The class of the template a generated text came from (its label before any noise)."""
    import re

    products = "(?:" + "|".join(map(re.escape, PRODUCTS)) + ")"
    for label, templates in TEMPLATES.items():
        for template in templates:
            if re.search(re.escape(template).replace(re.escape("{p}"), products), text):
                return label
    return None
