"""Databases: read-only sessions, the dialect-neutral catalog, introspection, the type matrix."""
