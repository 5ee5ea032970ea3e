"""Engine, sessions and migrations. SQLite runs in WAL mode with synchronous=FULL."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.store.storable import clean_parameters, json_serializer

MIGRATIONS = Path(__file__).parent / "migrations"
READ_ONLY = "mash_read_only"  # a connection's execution option: Database.reading


class SchemaOutOfDate(RuntimeError):
    pass


class FairQueue:
    """First come, first served among this process's threads, for SQLite's one writer.

    Every SQLite transaction here is BEGIN IMMEDIATE, so they take turns anyway; but SQLite's
    busy handler polls, and a thread that commits and begins again at once (the pipeline
    working through a backlog) can keep the watcher or the sender waiting for many seconds:
    an urgent referral then waits behind routine work. A ticket queue hands the database over
    in the order it was asked for. Re-entrant per thread; other processes still queue through
    SQLite's own busy timeout.
    """

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._next = 0
        self._serving = 0
        self._urgent = 0  # threads waiting with urgent work (an urgent referral to ingest)
        self._local = threading.local()

    def enter(self, urgent: bool = False) -> None:
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        if depth:
            return
        with self._turn:
            ticket = self._next
            self._next += 1
            self._urgent += urgent
            while ticket != self._serving:
                self._turn.wait()
            self._urgent -= urgent

    def urgent_waiting(self) -> bool:
        """Whether another thread is queued with urgent work."""
        with self._turn:
            return self._urgent > 0

    def leave(self) -> None:
        self._local.depth -= 1
        if self._local.depth:
            return
        with self._turn:
            self._serving += 1
            self._turn.notify_all()


class AnotherInstance(RuntimeError):
    """A second daemon on one SQLite database: refused, SQLite serves one instance."""


class Database:
    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.url = url
        self.read_only = read_only
        self.is_sqlite = url.startswith("sqlite")
        # hide_parameters: an error's text (logged, or kept as a message's last error) names the
        # statement but never its values, which are message text and people's details.
        kwargs: dict[str, Any] = {
            "future": True,
            "hide_parameters": True,
            "json_serializer": json_serializer,
        }
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 60}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _sqlite_pragmas(self.engine, "BEGIN" if read_only else "BEGIN IMMEDIATE")
        _storable_parameters(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._queue = FairQueue() if self.is_sqlite and not read_only else None

    @contextmanager
    def transaction(self, *, urgent: bool = False) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any exception. URGENT: this
        thread carries urgent work; a long routine batch holding SQLite commits early."""
        queue = self._queue
        if queue is not None:
            queue.enter(urgent)
        try:
            with self._sessions() as session, session.begin():
                yield session
        finally:
            if queue is not None:
                queue.leave()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it begins deferred, so it never holds the
        write lock (WAL lets it read while the daemon writes), however long it reads."""
        with self.engine.connect() as connection:
            connection.execution_options(**{READ_ONLY: True})
            with Session(bind=connection, expire_on_commit=False) as session:
                # Leaving the block closes the session (what it loaded stays readable) and
                # ends the connection's transaction: nothing was written to keep.
                yield session

    def urgent_waiting(self) -> bool:
        """SQLite: another of this process's threads waits for the database with urgent work
        (a long routine batch then commits early). PostgreSQL locks rows, not the database."""
        return self._queue is not None and self._queue.urgent_waiting()

    def missing_file(self) -> str | None:
        """The SQLite file's path when it does not exist (a read must not create it)."""
        if not self.is_sqlite:
            return None
        path = self.url.split("///", 1)[-1]
        if not path or path == ":memory:" or Path(path).exists():
            return None
        return path

    def skip_locked(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def upgrade(self) -> None:
        if self.is_sqlite:
            path = self.url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        with self.engine.begin() as connection:
            cfg = _alembic_config(self.url)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    def require_current(self) -> None:
        script = ScriptDirectory.from_config(_alembic_config(self.url))
        with self.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        if current != script.get_current_head():
            raise SchemaOutOfDate(
                f"database schema is at {current or 'nothing'}, code expects "
                f"{script.get_current_head()}: run `mash-gateway db upgrade`"
            )

    def dispose(self) -> None:
        self.engine.dispose()


def _alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _storable_parameters(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _clean(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> tuple[str, Any]:
        return statement, clean_parameters(parameters)


def _sqlite_pragmas(engine: Engine, begin: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN IMMEDIATE below is honoured.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers queue for the lock at BEGIN instead of failing on upgrade mid-transaction;
        # a read-only user (or Database.reading) begins deferred, so it never holds the write
        # lock (WAL lets it read while the daemon writes).
        reading = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if reading else begin)


def single_instance_lock(db: Database) -> IO[str]:
    """An exclusive lock beside the SQLite file, held by the running daemon and freed by the
    system when the process ends (however it ends), so a second daemon is refused at once."""
    path = Path(db.url.split("///", 1)[-1] + ".instance-lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise AnotherInstance(
            f"another mash-gateway instance ({holder}) is running on the SQLite database "
            f"{path.with_suffix('')}: SQLite serves one instance; stop that one, or point every "
            "instance at one PostgreSQL database (README: Running several instances)"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle
