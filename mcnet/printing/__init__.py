"""Printed forms of the rules (別紙1–7, the take-out request of 第12条(9)) rendered to A4 PDF.

`registry` names every form and how its data is gathered; `renderer` turns a template into a
PDF with the Japanese fonts embedded; `services` and `tasks` run it as a background job.
"""
