"""One Alembic history serves both dialects and matches the models exactly."""

from alembic import command
from sqlalchemy.engine import Connection

from models.db import Database
from models.migrate import alembic_config, pending_differences, upgrade
from portico.settings import settings_from_env


async def test_models_and_migration_head_agree(db: Database):
    assert await pending_differences(db.engine) == []


async def test_history_downgrades_to_nothing_and_back(scratch_database_url: str):
    scratch = Database(settings_from_env({"DATABASE_URL": scratch_database_url}))
    try:
        await upgrade(scratch.engine)

        def down(connection: Connection) -> list[str]:
            command.downgrade(alembic_config(connection), "base")
            return connection.dialect.get_table_names(connection)

        async with scratch.engine.begin() as conn:
            tables = await conn.run_sync(down)
        assert set(tables) <= {"alembic_version"}
        await upgrade(scratch.engine)
        assert await pending_differences(scratch.engine) == []
    finally:
        await scratch.dispose()
