"""Entries and facts: the built-in activations, numerical measurement, the audit.

Imports only from :mod:`actviz.core`.
"""
