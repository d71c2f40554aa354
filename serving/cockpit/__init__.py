"""The cockpit (产业大脑驾驶舱, issue 16): scenario dashboards served by the data service.

Pages are Jinja2 templates (autoescaped) with their scripts in files (a CSP without inline
scripts); every figure on a page is fetched by the browser from the data service's own API
products with the person's session cookie, so grants, masking and the audit trail apply exactly as
to any consumer (docs/architecture.md, "The data service"). Apache ECharts is vendored
(static/PROVENANCE.md): no CDN, no request to another host.
"""
