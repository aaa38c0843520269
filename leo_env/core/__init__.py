"""Pure numpy core: orbits, geometry, ground cells, channel, demand, handovers, utility.

Nothing in this package imports gymnasium or torch.  Functions take arrays and return arrays;
randomness enters only through explicit :class:`numpy.random.Generator` arguments.
"""
