"""What meshcharts reads.

Profiles, environment files, --set, YAML as Helm reads it, and build records.
"""
