"""Parsers by delivery format: tabular (CSV/XLSX), JSON Lines, JSON documents.

Each turns a file's bytes into a :class:`ingest.records.ParsedFile`: records (contract column →
value as received, as text), rejected lines with reasons, and a count of skipped lines.
"""
