"""Identity: organisations, people (password logins), apps (AppKey + AppSecret), groups, roles,
login sessions and signed tokens (docs/architecture.md: security).

``accounts`` holds the operations, ``models`` the tables, ``passwords`` the policy and hashes,
``tokens`` the JWTs, ``config`` the lockout and timeout settings; ``security.authz`` decides.
"""
