"""``python -m leo_env.scenario describe <preset-or-yaml> [--seed N] [--plot out.png]``."""

from leo_env.scenario.describe import main

raise SystemExit(main())
