"""Printed forms of the rules (別紙1–7, the take-out request of 第12条(9)) rendered to A4 PDF.

`registry` names every form; `forms/<code>.py` builds each form's context from the apps'
objects; `renderer` turns a template into a PDF with the Japanese fonts embedded; `services`
and `tasks` run it as a background job.
"""
