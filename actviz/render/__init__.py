"""Rendering: terminal tables, pictures, the gallery, the HTML page, a store's statistics and pictures.

Imports from :mod:`actviz.core`, :mod:`actviz.facts` and :mod:`actviz.results`; never from
:mod:`actviz.bench`, its sibling (the command line hands it plain data).
"""
