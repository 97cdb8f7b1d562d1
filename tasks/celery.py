"""The Celery app of the Flask app built from the environment (what `celery -A tasks` loads)."""
from webapp import create_app

flask_app = create_app()
app = flask_app.extensions["celery"]
