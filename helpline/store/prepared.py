"""For the webhooks' hot path: a Core statement compiled once per dialect by SQLAlchemy, then
run on the driver's own cursor.

SQLAlchemy's execution of a statement (its compiled cache, execution context and result)
cost a webhook about 45 µs a statement on top of the driver's own 12 (bench/README.md,
"#17"), and a text or a call step makes three or four. What SQLAlchemy
does for a statement that matters here is kept: its SQL and its parameters' order as the
dialect writes them, its types' conversions both ways (dates as text on SQLite, JSON, booleans),
a driver error raised as SQLAlchemy's error, and a connection that was lost invalidated.
Not kept: SQLAlchemy's per-statement events (``before_cursor_execute`` and the like) do not
see these statements (a listener may expect SQLAlchemy's execution context with them);
whoever wants to see them (the benchmark, a test) adds a function to ``watchers``
(``Store.watching`` does, for both paths). What
this cannot run as well (a list of rows to insert, an expanding ``IN``, a column default
computed in Python, textual SQL) goes through SQLAlchemy as usual.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Delete, Insert, Select, Update
from sqlalchemy.engine import IteratorResult
from sqlalchemy.engine.result import SimpleResultMetaData
from sqlalchemy.exc import DBAPIError

MAX_STATEMENTS = 256   # the hot path has a few dozen; more means statements built per call


@dataclass(frozen=True)
class Compiled:
    sql: str
    names: tuple[str, ...] | None        # the parameters in order, for a positional driver
    given: tuple[tuple[str, str], ...]   # (name in the SQL, name it is given by)
    fixed: dict                          # values compiled into the statement ("waiting")
    to_driver: tuple[tuple[str, object], ...]
    columns: SimpleResultMetaData
    from_driver: tuple | None            # None: no rows; (): rows as the driver gives them

    def parameters(self, params):
        values = dict(self.fixed)
        for name, key in self.given:
            if key in params:
                values[name] = params[key]
        for name, process in self.to_driver:
            values[name] = process(values[name])
        return values if self.names is None else tuple(values[name] for name in self.names)

    def result(self, rows) -> IteratorResult:
        if self.from_driver:
            rows = [tuple(p(v) if p else v for p, v in zip(self.from_driver, row, strict=True)) for row in rows]
        return IteratorResult(self.columns, iter(rows))


class PreparedStatements:
    """The compiled forms of one engine's hot-path statements, by statement."""

    def __init__(self, dialect):
        self.dialect = dialect
        self.compiled: dict[tuple, Compiled | None] = {}
        self.watchers: list[Callable[[str, object, bool], None]] = []   # (SQL, parameters, many)

    def execute(self, connection, statement, params):
        """The statement's result, run on the driver; None when SQLAlchemy has to run it."""
        params = {} if params is None else params
        if not isinstance(params, dict) or not isinstance(statement, (Select, Insert, Update, Delete)):
            return None
        key = (statement, frozenset(params))   # an INSERT's columns are the parameters given
        compiled = self.compiled.get(key, False)
        if compiled is False:
            if len(self.compiled) >= MAX_STATEMENTS:
                return None
            compiled = self.compiled[key] = _compile(statement, self.dialect, list(params))
        if compiled is None:
            return None
        return self._run(connection, compiled, compiled.parameters(params))

    def _run(self, connection, compiled: Compiled, parameters):
        for watch in self.watchers:
            watch(compiled.sql, parameters, False)
        raw = connection.connection.dbapi_connection
        cursor = raw.cursor()
        try:
            cursor.execute(compiled.sql, parameters)
            rows = cursor.fetchall() if compiled.from_driver is not None else ()
        except self.dialect.loaded_dbapi.Error as exc:
            lost = self.dialect.is_disconnect(exc, raw, cursor)
            if lost:
                connection.invalidate(exc)
            raise DBAPIError.instance(compiled.sql, parameters, exc, self.dialect.loaded_dbapi.Error,
                                      hide_parameters=True, connection_invalidated=lost,
                                      dialect=self.dialect) from exc
        finally:
            cursor.close()
        return compiled.result(rows)


def _compile(statement, dialect, column_keys: list[str]) -> Compiled | None:
    """None for what only SQLAlchemy can run: a column default computed in Python, an
    expanding or late-bound parameter."""
    compiled = statement.compile(dialect=dialect, column_keys=column_keys)
    binds = list(compiled.bind_names.items())
    if any(b.expanding or b.literal_execute or b.callable is not None for b, _ in binds) \
            or compiled.insert_prefetch or compiled.update_prefetch:
        return None
    names = tuple(compiled.positiontup) if compiled.positional else None
    processors = []
    for bind, name in binds:
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((name, process))
    returns = isinstance(statement, Select) or bool(compiled.returning)
    columns = list(statement.exported_columns) if returns else []
    from_driver = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
    return Compiled(
        sql=compiled.string, names=names,
        given=tuple((name, bind.key) for bind, name in binds),
        fixed={name: bind.value for bind, name in binds if not bind.required},
        to_driver=tuple(processors),
        columns=SimpleResultMetaData([c.name for c in columns]),
        from_driver=(tuple(from_driver) if any(from_driver) else ()) if returns else None)
