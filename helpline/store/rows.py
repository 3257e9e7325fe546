"""For the webhooks' hot path: a row read with SQLAlchemy Core and written back with one
``UPDATE`` of the columns the turn assigned, without the ORM's identity map and flush.

A texter's contact and conversation rows are read this way (locked, see
:mod:`helpline.store.lookups`) and saved at the end of the turn.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session


class Row:
    """A row's columns as attributes. Every assignment is written by :meth:`save`, even of
    an equal value: a JSON state may have been changed in place."""

    def __init__(self, table: Table, values: Mapping):
        self.__dict__.update(values)
        self.__dict__["_table"] = table
        self.__dict__["_changed"] = {}

    def __setattr__(self, name: str, value) -> None:
        self.__dict__[name] = value
        self._changed[name] = value

    def save(self, db: Session) -> None:
        if self._changed:
            key = self._table.primary_key.columns[0].name
            db.execute(_update(self._table, frozenset(self._changed)),
                       {"row_key": self.__dict__[key], **{f"new_{k}": v for k, v in self._changed.items()}})
            self._changed.clear()


@cache
def _update(table: Table, names: frozenset[str]):
    """Built once per set of columns; SQLAlchemy then caches its compiled form."""
    key = table.primary_key.columns[0]
    return (update(table).where(key == bindparam("row_key"))
            .values({name: bindparam(f"new_{name}", type_=table.c[name].type) for name in names}))
