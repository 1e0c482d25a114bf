"""Holds the Jinja templates as package data so an installed cutover renders the same HTML."""
