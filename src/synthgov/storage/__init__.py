"""Storage: engine, portable column types and Alembic migrations."""
