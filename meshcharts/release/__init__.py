"""Chart trees to releases.

Packages, the index, the build, golden files, build records, signing and versions.
"""
