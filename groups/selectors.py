"""Reads of the groups app, scoped to the asking user."""
