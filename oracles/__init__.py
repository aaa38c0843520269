"""Optimisation oracles and baselines."""
