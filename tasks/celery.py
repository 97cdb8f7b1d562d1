"""The Celery app of the Flask app built from the environment (what `celery -A tasks` loads):
without pages, API, forms and commands (`web=False`), which no worker or beat uses."""
from webapp import create_app

flask_app = create_app(web=False)
app = flask_app.extensions["celery"]
