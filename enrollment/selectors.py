"""Reads of the enrollment app, scoped to the asking user."""
