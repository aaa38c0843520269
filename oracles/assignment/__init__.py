"""Assignment family (GSL): the scoring of a predicted cluster-to-satellite assignment.

The primary's rule itself (the ground truth, and the reference rules) lives in
:mod:`leo_env.core.assignment`; :mod:`oracles.assignment.objective` is the one definition of the
score that the environment's reward and the evaluation tables use.
"""
