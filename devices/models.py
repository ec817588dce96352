"""Devices, take-out and BYOD approvals, loss and incident reports (art. 12)."""
