"""The Fashion-MNIST benchmark: data, training, comparison.

Imports from :mod:`actviz.core`, :mod:`actviz.facts` and (for pictures) :mod:`actviz.render`.
"""
