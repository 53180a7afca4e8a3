"""WSGI entry point (served by granian: ``yiwang serve``)."""

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


_warm_search()
