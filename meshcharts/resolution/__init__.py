"""Profile, environment and --set layers resolved into values with their provenance."""
