"""Rendering: terminal tables, pictures, the gallery.

Imports from :mod:`actviz.core` and :mod:`actviz.facts`.
"""
