"""Publicity statistics, the activity ledger (普法台账) and the report exports (issue 5)."""
