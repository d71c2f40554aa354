"""Every table of the state database, imported so that Alembic and ``Base.metadata`` see them all.

Each area keeps its tables in its own module (identity, audit); this module only collects them.
"""

from security import applications as application_models  # noqa: F401 - applications, notices, objections
from security import grants as grant_models  # noqa: F401 - data-access grants (issue 14)
from security import outbox as outbox_models  # noqa: F401 - the delivery outbox
from security import usage as usage_models  # noqa: F401 - the data service's request counters
from security.audit import models as audit_models  # noqa: F401 - the audit trail's tables
from security.identity import models as identity_models  # noqa: F401 - organisations, people, apps, roles
