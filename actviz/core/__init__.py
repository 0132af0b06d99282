"""Core: records and lookup (registry), property types, errors, files, signals, formatting, the JSON policy.

The bottom layer: it imports nothing else from actviz.
"""
