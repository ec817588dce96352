"""Permission expectations for the facilities app's URLs (see expectations.py for the outcomes)."""

from .expectations_base import *  # noqa: F403

EXPECTATIONS: dict = {}
