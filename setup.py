"""The one compiled part: the term extractor's word loop (webapp/insights/terms/_extract_loop.c).
Optional: without a C compiler the install goes on and extract.py's Python loop gives the same
terms, slower. Everything else about the package is in pyproject.toml."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("webapp.insights.terms._extract_loop", ["webapp/insights/terms/_extract_loop.c"],
                             optional=True)])
