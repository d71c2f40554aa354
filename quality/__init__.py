"""Data quality (GB/T 36344 dimensions, DCMM process): rule measurement and reconciliation."""
