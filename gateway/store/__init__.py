"""Persistence: the engine and sessions, the models, the audit ledger and the migrations."""
