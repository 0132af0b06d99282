"""The benchmark: data sets, training, statistics, the comparison. It returns data; it never draws.

Imports from :mod:`actviz.core`, :mod:`actviz.facts` and :mod:`actviz.results`; never from
:mod:`actviz.render`, its sibling (the pictures of a store are drawn there, from the data).
"""
