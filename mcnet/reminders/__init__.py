"""Periodic reminders of issue 7 (beat, schedules in mcnet/settings/base.py). See jobs.py."""
