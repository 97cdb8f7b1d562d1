"""'Classify your own text': score any text with the same scorer the pipeline uses."""
from __future__ import annotations

from flask import Blueprint, render_template

from webapp.people.auth import page_role
from webapp.scoring.forms import ClassifyForm
from webapp.scoring import sentiment

bp = Blueprint("classify", __name__)


@bp.route("/classify", methods=["GET", "POST"])
@page_role("viewer")
def classify():
    form = ClassifyForm()
    score = sentiment.score_text(form.text.data) if form.validate_on_submit() else None
    return render_template("classify.html", form=form, score=score), (400 if form.errors else 200)
