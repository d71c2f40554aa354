"""Alerts (issue 16): events worth a person's attention, posted once to allow-listed webhooks.

``events.py`` finds the events (a blocking quality check failed, a quality issue opened, a
delivery dead-lettered, a run failed, a source late past its deadline); ``rules.py`` reads the
rules (catalog/alerts.yaml) and the webhook configuration; ``webhooks.py`` signs and posts each
(rule, event, webhook) once, remembering it in the state database. Dagster calls them from
sensors (orchestration/alerts.py); ``ibrain alerts`` from the command line.
"""
