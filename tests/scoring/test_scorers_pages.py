"""Scorer pages through the test client: list, upload-evaluate (with the heatmap), train, explain,
a monitor's scorer with re-scoring progress, and who may do what."""
from __future__ import annotations

import io
import json
import re
import pytest
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.monitors.models import Monitor
from webapp.scoring.models import ScorerModel

from tests.helpers import make_user
from tests.helpers import new_monitor
from tests.scorers_data import EXPECTED_MODEL, EXPECTED_VADER, labelled_csv, train_model

BROKEN = ("text,label\n"
          "I love it,positive\n"
          ",positive\n"
          "terrible,negative,extra\n"
          "a chair,whatever\n"
          "awful,NEG\n")


def upload(content: str, name: str = "labels.csv") -> tuple:
    return (io.BytesIO(content.encode()), name)


def figure(html: str, name: str) -> dict:
    found = re.search(rf'<script type="application/json" id="figure-{name}">(.*?)</script>', html, re.S)
    assert found, f"no figure {name}"
    return json.loads(found.group(1))


@pytest.fixture
def viewer(app):
    make_user(app, email="viewer@example.com", role="viewer", password="viewer password")
    client = app.test_client()
    assert client.post("/login", data={"email": "viewer@example.com", "password": "viewer password"}).status_code == 302
    return client


def test_scorer_pages_need_login(client):
    for path in ("/scorers", "/scorers/evaluate", "/scorers/train", "/scorers/explain", "/monitors/1/scorer"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_list_and_nav(app, logged_in):
    page = logged_in.get("/scorers").get_data(as_text=True)
    assert '<a href="/scorers">Scorers</a>' in page and "<code>vader</code>" in page and "No trained models" in page
    train_model(app)
    page = logged_in.get("/scorers").get_data(as_text=True)
    assert "<code>model:gadgets</code>" in page and "<code>ensemble:gadgets</code>" in page
    assert f"{EXPECTED_MODEL['accuracy']:.4f} / {EXPECTED_VADER['accuracy']:.4f}" in page


def test_evaluate_upload_shows_report_heatmap_and_broken_rows(app, viewer):
    response = viewer.post("/scorers/evaluate", data={"scorer": "vader", "file": upload(BROKEN)},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="metric-accuracy">1.0000<' in html
    assert "3 malformed rows (skipped)" in html
    assert "line 3: empty text" in html and "line 4: expected 2 fields, found 3" in html
    assert "line 5: unknown label &#39;whatever&#39;" in html
    heatmap = figure(html, "confusion")
    assert heatmap["data"][0]["type"] == "heatmap"
    assert heatmap["data"][0]["z"] == [[1, 0, 0], [0, 0, 0], [0, 0, 1]]
    assert heatmap["data"][0]["x"] == ["positive", "neutral", "negative"]
    assert "js/charts.js" in html and "<script>" not in html  # no inline script (CSP)


def test_evaluate_a_trained_model_and_bad_uploads(app, logged_in):
    train_model(app)
    response = logged_in.post("/scorers/evaluate", data={"scorer": "model:gadgets", "file": upload(labelled_csv())},
                              content_type="multipart/form-data")
    assert response.status_code == 200 and "Report: <code>model:gadgets</code>" in response.get_data(as_text=True)
    no_file = logged_in.post("/scorers/evaluate", data={"scorer": "vader"}, content_type="multipart/form-data")
    assert no_file.status_code == 400 and "choose a file" in no_file.get_data(as_text=True)
    no_text = logged_in.post("/scorers/evaluate", data={"scorer": "vader", "file": upload("a,label\n1,positive\n")},
                             content_type="multipart/form-data")
    assert no_text.status_code == 400 and "no text column" in no_text.get_data(as_text=True)
    unknown = logged_in.post("/scorers/evaluate", data={"scorer": "model:nope", "file": upload(BROKEN)},
                             content_type="multipart/form-data")
    assert unknown.status_code == 400 and "Not a valid choice" in unknown.get_data(as_text=True)
    app.config["SCORER_UPLOAD_MAX_BYTES"] = 100
    big = logged_in.post("/scorers/evaluate", data={"scorer": "vader", "file": upload(labelled_csv())},
                         content_type="multipart/form-data")
    assert big.status_code == 400 and "larger than" in big.get_data(as_text=True)


def test_train_page_shows_model_beside_vader(app, logged_in):
    response = logged_in.post("/scorers/train", data={"name": "gadgets", "test_size": "0.2", "file": upload(labelled_csv())},
                              content_type="multipart/form-data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<code>model:gadgets</code> version 1" in html
    assert re.search(rf"<td>accuracy</td><td class=\"num\">{EXPECTED_MODEL['accuracy']:.4f}</td>"
                     rf"<td class=\"num\">{EXPECTED_VADER['accuracy']:.4f}</td>", html)
    assert figure(html, "model")["data"][0]["z"] == EXPECTED_MODEL["confusion"]
    assert figure(html, "vader")["data"][0]["z"] == EXPECTED_VADER["confusion"]
    assert [bar["name"] for bar in figure(html, "comparison")["data"]] == ["model:gadgets", "vader"]
    again = logged_in.post("/scorers/train", data={"name": "gadgets", "file": upload(labelled_csv())},
                           content_type="multipart/form-data")
    assert again.status_code == 200 and "version 2" in again.get_data(as_text=True)
    bad = logged_in.post("/scorers/train", data={"name": "bad name", "file": upload(labelled_csv())},
                         content_type="multipart/form-data")
    assert bad.status_code == 400
    tiny = logged_in.post("/scorers/train", data={"name": "tiny", "file": upload("text,label\na,positive\n")},
                          content_type="multipart/form-data")
    assert tiny.status_code == 400 and "at least 10" in tiny.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(ScorerModel.name, ScorerModel.version)).all() == [("gadgets", 2)]


def test_viewer_cannot_train_or_change_a_scorer(app, viewer):
    monitor_id, _ = new_monitor(app)
    assert viewer.get("/scorers/train").status_code == 403
    assert viewer.post("/scorers/train", data={"name": "x", "file": upload(labelled_csv())},
                       content_type="multipart/form-data").status_code == 403
    page = viewer.get(f"/monitors/{monitor_id}/scorer")
    assert page.status_code == 200 and 'name="scorer"' not in page.get_data(as_text=True)
    assert viewer.post(f"/monitors/{monitor_id}/scorer", data={"scorer": "vader"}).status_code == 403
    assert "Train a model" not in viewer.get("/scorers").get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(ScorerModel)).first() is None


def test_explain_page(app, viewer):
    response = viewer.post("/scorers/explain", data={"text": "the new Zephyr X2 is sick", "scorer": "vader"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'label-badge negative' in html
    assert "<code>sick</code>" in html and "-2.3000" in html
    train_model(app)
    response = viewer.post("/scorers/explain", data={"text": "the new Zephyr X2 is sick", "scorer": "model:gadgets"})
    html = response.get_data(as_text=True)
    assert 'label-badge positive' in html and "<code>sick</code>" in html
    assert viewer.post("/scorers/explain", data={"text": "", "scorer": "vader"}).status_code == 400
    escaped = viewer.post("/scorers/explain", data={"text": "<b>great</b> stuff", "scorer": "vader"})
    assert "<b>great</b>" not in escaped.get_data(as_text=True)


def test_choose_a_monitors_scorer_and_follow_the_rescoring(app, logged_in):
    monitor_id, _ = new_monitor(app, name="Gadgets")
    detail = logged_in.get(f"/monitors/{monitor_id}").get_data(as_text=True)
    assert f'href="/monitors/{monitor_id}/scorer">Scorer: vader</a>' in detail
    train_model(app)
    page = logged_in.get(f"/monitors/{monitor_id}/scorer").get_data(as_text=True)
    assert '<option value="model:gadgets">' in page and '<option selected value="vader">' in page
    unknown = logged_in.post(f"/monitors/{monitor_id}/scorer", data={"scorer": "model:nope", "rescore": "y"})
    assert unknown.status_code == 400

    only_new = logged_in.post(f"/monitors/{monitor_id}/scorer", data={"scorer": "ensemble:gadgets"})
    assert only_new.status_code == 302 and "task=" not in only_new.headers["Location"]
    response = logged_in.post(f"/monitors/{monitor_id}/scorer", data={"scorer": "model:gadgets", "rescore": "y"})
    assert response.status_code == 302
    task_id = re.search(r"task=([0-9a-f-]{36})", response.headers["Location"]).group(1)
    with app.app_context():
        assert db.session.get(Monitor, monitor_id).scorer == "model:gadgets"
    page = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="rescore"' in page and "js/rescore.js" in page and f"task={task_id}" in page

    progress = f"/monitors/{monitor_id}/scorer/progress?task={task_id}"
    assert logged_in.get(progress).get_json() == {"state": "PENDING", "done": None, "total": None}
    backend = app.extensions["celery"].backend  # what a worker's update_state and return write
    backend.store_result(task_id, {"done": 3, "total": 10}, "PROGRESS")
    assert logged_in.get(progress).get_json() == {"state": "PROGRESS", "done": 3, "total": 10}
    backend.store_result(task_id, {"monitor_id": monitor_id, "scorer": "model:gadgets", "done": 10,
                                   "total": 10, "status": "done"}, "SUCCESS")
    assert logged_in.get(progress).get_json() == {"state": "SUCCESS", "done": 10, "total": 10}
    assert logged_in.get(f"/monitors/{monitor_id}/scorer/progress?task=nope").status_code == 400
    other, _ = new_monitor(app, name="Other")
    assert logged_in.get(f"/monitors/{other}/scorer/progress?task={task_id}").status_code == 404
    assert logged_in.get("/monitors/999/scorer").status_code == 404


def test_rescore_request_reaches_the_broker(app, logged_in):
    """The page queues `scoring.rescore_monitor` on the broker (a worker would run it)."""
    monitor_id, _ = new_monitor(app)
    response = logged_in.post(f"/monitors/{monitor_id}/scorer", data={"scorer": "vader", "rescore": "y"})
    task_id = re.search(r"task=([0-9a-f-]{36})", response.headers["Location"]).group(1)
    celery_app = app.extensions["celery"]
    with celery_app.connection_for_read() as conn:
        queue = conn.SimpleQueue("celery")
        try:
            message = queue.get(timeout=10)
            assert message.headers["task"] == "scoring.rescore_monitor" and message.headers["id"] == task_id
            assert message.decode()[0] == [monitor_id]
            message.ack()
        finally:
            queue.close()
