"""Reads of the devices app, scoped to the asking user."""
