"""Serving: exports to the provincial platforms (and, later, the exchange API and dashboards)."""
