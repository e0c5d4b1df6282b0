"""Queries routing runs for every lead, compiled to SQL once per database and then run with
fresh parameters (building SQL from a queryset costs more than running it on an index).

Like ``guanxi.platform.prepared`` for single rows, but for lists of values: the queryset is
built once with unique stand-in integers where the parameters go, and rows come back
through the compiler's converters (JSON, dates) as ``values_list`` would give them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import QuerySet

# stand-ins for the parameters: integers no id takes
MARKERS = tuple(-7_340_000_001 - i for i in range(8))


class CompiledValues:
    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self.build = build
        self._plans: dict[str, tuple] = {}

    def _plan(self, alias: str, count: int) -> tuple:
        plan = self._plans.get(alias)
        if plan is None:
            queryset = self.build(*MARKERS[:count])
            compiler = queryset.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            slots = {i: MARKERS.index(p) for i, p in enumerate(params) if p in MARKERS}
            if sorted(set(slots.values())) != list(range(count)):
                raise ValueError("every parameter must appear in the query")
            plan = self._plans[alias] = (compiler, sql, tuple(params), slots)
        return plan

    def rows(self, *values: Any, using: str = "default") -> list[tuple]:
        compiler, sql, params, slots = self._plan(using, len(values))
        bound = [values[slots[i]] if i in slots else p for i, p in enumerate(params)]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, bound)
            rows = cursor.fetchall()
        return list(compiler.results_iter(results=[rows]))
