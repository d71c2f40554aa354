"""Silver: standardise, validate and de-duplicate bronze, quarantining what breaks a rule."""
