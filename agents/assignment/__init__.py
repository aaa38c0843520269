"""Assignment family (GSL): learn a primary LEO system's hidden cluster-to-satellite assignment.

``python -m agents.assignment train --config configs/experiments/gsl_gsl.yaml`` trains a model
(:mod:`agents.assignment.training`); ``evaluate`` writes the top-1..top-5 tables.
"""
