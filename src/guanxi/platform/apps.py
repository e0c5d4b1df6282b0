from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlatformConfig(AppConfig):
    name = "guanxi.platform"
    label = "platform"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from datetime import timedelta

        from guanxi.platform import lookups, periodic, permissions, signals, tasks  # noqa: F401  (registers types, hooks, lookups)

        _cache_long_statements()
        periodic.register("prune_idempotency_keys", tasks.prune_idempotency_keys,
                          every=timedelta(hours=1),
                          description="Forget Idempotency-Key answers older than a day")  # fmt: skip


def _cache_long_statements() -> None:
    """psycopg keeps the parsed form of a statement (where its placeholders are) for the
    next time it is run, but not of one with more than 50 parameters: it assumes those are
    an ORM's many-row inserts of ever-changing size. Ours with more are single rows of wide
    tables — a lead and its history row have some sixty columns — parsed again on every
    web form submission (0.2 ms of ~3 ms of Python a lead). Up to 200 parameters are kept.
    The limit is a module constant of psycopg's; if a release drops it, nothing changes."""
    try:
        import psycopg._queries as queries
    except ImportError:  # SQLite only
        return
    limit = getattr(queries, "MAX_CACHED_STATEMENT_PARAMS", None)
    if isinstance(limit, int) and limit < 200:
        queries.MAX_CACHED_STATEMENT_PARAMS = 200
