"""Imported by a test worker (CELERY_EXTRA_IMPORTS) so that the `pager` kind exists there too."""
from tests.backfill_pager import install

install()
