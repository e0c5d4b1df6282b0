"""Hot lookups compiled to SQL once per database, then run with a fresh parameter.

Turning a queryset with several `select_related` joins into SQL costs more than running it
on an indexed column. A lookup made on every request (the bearer token) compiles once and
reuses the SQL and the row-to-object plan; only the parameter changes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

PARAMETER = "\x00guanxi-prepared-parameter\x00"


class PreparedLookup:
    """`build(value)` returns the queryset for one value; `get(value)` runs it, compiled once.

    When the query also depends on who asks (visibility), ``build(context, value)`` receives
    that context and ``get(value, key=…, context=…)`` names it: one compiled plan per key,
    so the key must hold everything the query's SQL and other parameters depend on. The
    newest ``size`` plans are kept.
    """

    def __init__(self, build: Callable[..., QuerySet], *, size: int = 2048) -> None:
        self.build = build
        self.size = size
        self._plans: OrderedDict[tuple, tuple] = OrderedDict()

    def _plan(self, alias: str, key: Hashable, context: Any) -> tuple:
        cache_key = (alias, key)
        plan = self._plans.get(cache_key)
        if plan is None:
            queryset = self.build(PARAMETER) if context is None else self.build(context, PARAMETER)
            compiler = queryset.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            slots = [index for index, value in enumerate(params) if value == PARAMETER]
            if len(slots) != 1:
                raise ValueError("a prepared lookup takes exactly one parameter")
            klass_info = compiler.klass_info
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            init_list = [column[0].target.attname for column in compiler.select[start:end]]
            populators = get_related_populators(klass_info, compiler.select, alias)
            plan = (
                compiler,
                sql,
                tuple(params),
                slots[0],
                klass_info["model"],
                init_list,
                start,
                end,
                populators,
            )
            self._plans[cache_key] = plan
            while len(self._plans) > self.size:
                self._plans.popitem(last=False)
        return plan

    def get(
        self, value: Any, *, using: str = "default", key: Hashable = None, context: Any = None
    ) -> Model | None:
        plan = self._plan(using, key, context)
        compiler, sql, params, slot, model, init_list, start, end, populators = plan
        bound = list(params)
        bound[slot] = value
        with connections[using].cursor() as cursor:
            cursor.execute(sql, bound)
            rows = cursor.fetchmany(2)
        if len(rows) != 1:
            return None
        for row in compiler.results_iter(results=[rows]):
            obj = model.from_db(using, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            return obj
        return None
