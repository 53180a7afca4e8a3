"""WSGI entry point (served by granian: ``yiwang serve``)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
application = get_wsgi_application()


def _warm_search() -> None:
    """Build the search lexicon before the worker takes requests (seconds at province scale)."""
    if os.environ.get("YIWANG_SEARCH_WARM", "1") == "0":
        return
    try:
        from yiwang.search import selectors

        selectors.engine().warm()
    except Exception:  # a worker without a usable index still serves everything else
        import logging

        logging.getLogger(__name__).exception("search warm-up failed")
    # What start-up built (the search lexicon and suggester, Django's modules) lives as long as the worker:
    # keep it out of the garbage collector's full passes, which walked it for ~150 ms of CPU — the 100–265 ms
    # stalls of the search benchmark (decision 0015). Later lexicon refreshes are collected as usual.
    gc.freeze()


_warm_search()
