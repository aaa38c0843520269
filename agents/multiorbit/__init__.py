"""Learned agents of the ``multiorbit`` family (DV-MOSS): satellite selection and UE association.

Modules: :mod:`.labels` (DV-MOSS demonstrations over seeds with :func:`leo_env.parallel.pmap`),
:mod:`.features` (observation -> tensors), :mod:`.models` (set networks), :mod:`.training`
(behaviour cloning, the Wolpertinger critic, MaskablePPO fine-tuning; resumable),
:mod:`.policies` (trained agents as :class:`leo_env.policies.Policy`), :mod:`.evaluation`
(paired held-out seeds), :mod:`.config` (typed experiment config) and :mod:`.family` (the
pipeline entry, ``FAMILY``).
"""
