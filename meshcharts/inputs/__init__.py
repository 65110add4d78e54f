"""What users write: profiles, environment files, --set arguments, YAML read as Helm reads it."""
