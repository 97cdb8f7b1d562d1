"""The compiled parts: the term extractor's word loop (webapp/insights/terms/_extract_loop.c) and
the fold's tally of term deltas (webapp/ingest/_term_tally.c). Optional: without a C compiler the
install goes on, and extract.py's loop and term_rollups.tally give the same answers in Python,
slower. Everything else about the package is in pyproject.toml."""
from setuptools import Extension, setup

setup(ext_modules=[Extension(name, [source], optional=True) for name, source in (
    ("webapp.insights.terms._extract_loop", "webapp/insights/terms/_extract_loop.c"),
    ("webapp.ingest._term_tally", "webapp/ingest/_term_tally.c"),
)])
