"""Core: records and lookup (registry), property types, errors, atomic files.

The bottom layer: it imports nothing else from actviz.
"""
