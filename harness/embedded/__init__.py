"""Servers cutover starts for itself: embedded PostgreSQL, its TLS front, the SQLite copy."""
