"""Ingestion: landing files, the ingest ledger, source parsers and the bronze loader."""
