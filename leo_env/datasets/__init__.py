"""Offline dataset generators (pure numpy; may import :mod:`leo_env.core` only).

``python -m leo_env.datasets primary-assignment --preset gsl-ci`` generates the primary system's
assignment history of the ``assignment`` family (:mod:`leo_env.datasets.primary_assignment`).
"""
