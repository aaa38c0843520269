"""P2: slow-timescale association under hard per-cell handover budgets (placeholder)."""
