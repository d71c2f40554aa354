"""Source simulator: plays the provincial source systems, deterministically for a seed."""
