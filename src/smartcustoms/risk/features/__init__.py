"""Features computed from the past of each declaration: history rates, unit values, counts."""
