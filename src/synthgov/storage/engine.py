"""Engine construction: SQLite in WAL mode by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from synthgov.errors import ConfigurationError


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigurationError(f"invalid database URL: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database)
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not path.exists():  # owner only from the start (its -wal and -shm files inherit the mode)
                import os

                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        engine = create_engine(parsed, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # WAL: readers never block the writer
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True)
    raise ConfigurationError(f"unsupported database {parsed.get_backend_name()!r}; use SQLite or PostgreSQL")


def check_ready(url: str, data_dir: Path) -> None:
    """Before a command opens the database: a one-line error that says what to do, and nothing
    created, when the data folder was never initialised or cannot be written."""
    import os

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return
    path = Path(parsed.database)
    if not path.is_file():
        raise ConfigurationError(f"no synthgov database at {path}: run `synthgov init` (with --data-dir {data_dir} "
                                 "if that is the folder you meant)")
    for what in (path.parent, path):
        if not os.access(what, os.W_OK):
            raise ConfigurationError(
                f"{what} is read-only: synthgov writes its database there (SQLite keeps a write-ahead log "
                "beside it, even to read); run as its owner, or copy the data folder somewhere writable")


def describe_database_error(exc: BaseException, where: Path) -> str | None:
    """What a storage failure means for the person at the CLI (None: no better words known)."""
    text = str(exc).lower()
    if "disk is full" in text or getattr(exc, "errno", None) == 28 or "no space left" in text:
        return f"the disk holding {where} is full: free some space and run the command again (nothing was written)"
    if "readonly database" in text or "read-only" in text:
        return f"{where} is read-only: run as its owner, or copy the data folder somewhere writable"
    if "disk i/o error" in text:
        return (f"the disk holding {where} failed a read or write (full, removed or damaged): check it, free space, "
                "and run the command again")
    if "no such table" in text:
        return "the database has no synthgov tables: run `synthgov init` or `synthgov db upgrade`"
    return None
