"""WSGI entry point (served by granian: ``yiwang serve``)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
django_application = get_wsgi_application()

from yiwang.ratings.wsgi_submit import Dispatcher  # noqa: E402 - needs the apps loaded

# plain anonymous rating submissions are answered before Django's handler stack (decision 0014)
application = Dispatcher(django_application)


def _warm_search() -> None:
    """Build the search lexicon before the worker takes requests (seconds at province scale)."""
    if os.environ.get("YIWANG_SEARCH_WARM", "1") == "0":
        return
    try:
        from yiwang.search import selectors

        engine = selectors.engine()
        engine.freeze_gc = True  # full collections would walk the lexicon's millions of entries (decision 0020)
        gc.collect()
        engine.warm()
    except Exception:  # a worker without a usable index still serves everything else
        import logging

        logging.getLogger(__name__).exception("search warm-up failed")


_warm_search()
