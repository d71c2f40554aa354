"""Alembic environment: runs on the engine ``security.db.migrate`` passes in (never a URL in a file)."""

from alembic import context

import security.models  # noqa: F401 - registers every table on Base.metadata
from security.db import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()
