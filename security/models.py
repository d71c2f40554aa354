"""Every table of the state database, imported so that Alembic and ``Base.metadata`` see them all.

Each area keeps its tables in its own module (identity, audit); this module only collects them.
"""

from security.identity import models as identity  # noqa: F401
