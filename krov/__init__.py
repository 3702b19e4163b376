"""Krov: a self-hosted, secure-by-default platform for a community in exile."""
