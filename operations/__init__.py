"""Operator actions that cross layers (batch withdraw, review release): docs/architecture.md."""
