"""The foundation every layer may use.

Limits, files, names, kinds, YAML text and the package reader.
"""
