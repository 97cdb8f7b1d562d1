"""How the app meets HTTP: the server `make run` starts, JSON answers, the request guard, error pages and the API docs page."""
