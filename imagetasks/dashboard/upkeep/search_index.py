# SQL here is built only from this module's constant table names; the searched text is
# always a query parameter.
# ruff: noqa: S608, S611
"""A trigram index for the task table's free-text search, on SQLite and on PostgreSQL.

The table searches names, ids and container/object paths by substring, which no
B-tree can serve: at 100,000 tasks a scan took 400-600 ms. ``ImageTask.search_text``
(a generated column, so every write path keeps it current) is indexed by trigrams:

- SQLite: an FTS5 table with the ``trigram`` tokenizer over that column (external
  content: it stores only the index), kept in step by triggers;
- PostgreSQL: a GIN index with ``gin_trgm_ops`` from the ``pg_trgm`` extension
  (trusted since PostgreSQL 13: the database owner may create it).

Both are made after every ``migrate`` (idempotent), not in a migration: a later
migration that rebuilds the task table on SQLite drops triggers, and the FTS index is
then rebuilt from the table. Where neither is available (a PostgreSQL without
``pg_trgm``) the search still works, by scanning. Terms shorter than three characters
have no trigram and are matched by scanning too.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connections, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

log = logging.getLogger(__name__)

TABLE = "dashboard_imagetask"
FTS_TABLE = "dashboard_imagetask_search"
PG_INDEX = "task_search_trgm"
MIN_TERM = 3

_SQLITE_SETUP = (
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
        search_text, content='{TABLE}', content_rowid='rowid', tokenize='trigram')""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON {TABLE} BEGIN
        INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.rowid, new.search_text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON {TABLE} BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
            VALUES ('delete', old.rowid, old.search_text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update AFTER UPDATE ON {TABLE}
        WHEN old.search_text IS NOT new.search_text BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
            VALUES ('delete', old.rowid, old.search_text);
        INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.rowid, new.search_text);
    END""",
    # The rows' rowids may have changed if the table was rebuilt: index them afresh.
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
)


def ensure(using: str = "default") -> bool:
    """Create (or repair) the trigram index; return whether the database has one."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        with transaction.atomic(using=using), connection.cursor() as cursor:
            for statement in _SQLITE_SETUP:
                cursor.execute(statement)
        return True
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Look first: even CREATE INDEX IF NOT EXISTS takes a lock on the table.
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [PG_INDEX])
            if cursor.fetchone():
                return True
        try:
            with transaction.atomic(using=using), connection.cursor() as cursor:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON {TABLE} "
                    "USING gin (search_text gin_trgm_ops)"
                )
        except DatabaseError as error:
            log.warning("no trigram index for the task search (%s): searching scans", error)
            return False
        return True
    return False


def ensure_after_migrate(sender, using: str = "default", **kwargs) -> None:
    ensure(using)


def matching(text: str, using: str = "default") -> Q:
    """Tasks whose name, ids or container/object contain ``text`` (any case)."""
    term = text.lower()
    scan = Q(search_text__contains=term)
    if len(term) < MIN_TERM or connections[using].vendor != "sqlite":
        # PostgreSQL's planner uses the GIN index for this LIKE by itself.
        return scan
    # FTS5 phrase syntax: the term in double quotes, quotes inside doubled. The
    # trigram index finds the rows; the substring test keeps the exact meaning.
    phrase = '"' + term.replace('"', '""') + '"'
    in_index = RawSQL(
        f'"{TABLE}"."rowid" IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)',
        (phrase,),
        output_field=BooleanField(),
    )
    return Q(in_index) & scan
