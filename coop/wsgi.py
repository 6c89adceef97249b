import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings.local")
application = get_wsgi_application()


def freeze_loaded_objects() -> int:
    """Load every view module now and move the objects of the loaded application into the
    garbage collector's permanent generation; returns how many.

    They live as long as the process. Left in the oldest generation, each full collection walks
    all of them again: about 100 ms, once every twenty or so requests (measured with
    ``scripts/bench_county.py``, whose process is set up the same way); frozen, a collection
    only walks what requests created.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URL modules and their views
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


freeze_loaded_objects()
