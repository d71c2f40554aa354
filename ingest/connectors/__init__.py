"""Connectors that pull from source APIs; every page is saved to landing before it is parsed."""
