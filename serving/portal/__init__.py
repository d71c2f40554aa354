"""数据门户 and 数据申请 → 审批 → 授权 (issue 14 items 4 and 7): the workflow's rules
(``access``), its /v1 endpoints (``api``), the portal pages (``pages``) and what they read from
the lake (``lake``); ``routes.install`` adds them to the data service's application."""
