"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from marketplace.extensions import db as _db


def test_models_and_migrations_agree(app, db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(context, _db.metadata)
    assert diff == [], f"models and migrations differ; run 'flask db migrate': {diff}"


def test_schema_is_at_every_head(app, db):
    """The test database was built by `flask db upgrade heads`: every branch of the history is applied."""
    from alembic.script import ScriptDirectory

    config = app.extensions["migrate"].migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as conn:
        assert set(MigrationContext.configure(conn).get_current_heads()) == heads
