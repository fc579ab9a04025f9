import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from synthgov.storage import migrate
from synthgov.storage.base import Base, all_models


def test_migrations_match_models(platform):
    all_models()
    with platform.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert migrate.current(platform.engine) == migrate.head()


def test_sqlite_uses_wal(platform):
    if platform.engine.dialect.name != "sqlite":
        pytest.skip("WAL is SQLite's journal mode; PostgreSQL has its own")
    with platform.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_the_head_constant_is_alembics_head():
    """Commands check the schema against ``migrate.HEAD`` without loading alembic; a new migration
    must move it."""
    from synthgov.storage import migrate

    assert migrate.head() == migrate.alembic_head()
