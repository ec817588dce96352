"""Reads of the consents app, scoped to the asking user."""
