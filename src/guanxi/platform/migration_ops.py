"""Migration operations of our own.

``UnindexFields`` turns ``db_index`` off on some fields of one model. ``AlterField`` does the
same, but at a price that adds up over a hundred fields: each one re-renders every model
related to the field's target (the user model is related to all of them: ~0.1 s a field),
and on SQLite each one copies the whole table to drop one index. Here the model's state is
changed once and each index is dropped by name, as the database reports it.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


class UnindexFields(migrations.operations.base.Operation):
    reversible = True

    def __init__(self, model_name: str, names: list[str]) -> None:
        self.model_name = model_name
        self.names = list(names)

    def deconstruct(self) -> tuple[str, list, dict]:
        return self.__class__.__qualname__, [self.model_name, self.names], {}

    def state_forwards(self, app_label: str, state: Any) -> None:
        self._set(app_label, state, db_index=False)

    def _set(self, app_label: str, state: Any, *, db_index: bool) -> None:
        model_state = state.models[app_label, self.model_name.lower()]
        for name in self.names:
            field = model_state.fields[name]
            _name, _path, args, kwargs = field.deconstruct()
            kwargs["db_index"] = db_index
            model_state.fields[name] = field.__class__(*args, **kwargs)
        # an index is nobody else's business: the related models need no new rendering
        state.reload_model(app_label, self.model_name.lower(), delay=True)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any,
                          to_state: Any) -> None:  # fmt: skip
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        for name in self.names:
            column = model._meta.get_field(name).column
            # the plain index and, on PostgreSQL, the "_like" one of a text column
            for index in schema_editor._constraint_names(
                model, [column], index=True, unique=False, primary_key=False
            ):
                schema_editor.execute(schema_editor._delete_index_sql(model, index))

    def state_backwards(self, app_label: str, state: Any) -> None:
        self._set(app_label, state, db_index=True)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any,
                           to_state: Any) -> None:  # fmt: skip
        unindexed = from_state.apps.get_model(app_label, self.model_name)
        indexed = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, indexed):
            return
        for name in self.names:
            schema_editor.alter_field(
                indexed, unindexed._meta.get_field(name), indexed._meta.get_field(name)
            )

    def describe(self) -> str:
        return f"Drop the indexes of {', '.join(self.names)} on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"unindex_{self.model_name.lower()}"
