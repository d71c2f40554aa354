"""Industry Brain lakehouse: the shared core (settings, lake paths, Spark session, Delta helpers)."""
