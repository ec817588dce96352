"""The center's dashboard (第1条: the center oversees the network): the network at a glance and
what waits for the center.

`selectors` computes every figure with grouped (aggregate) queries — a fixed number whatever the
size of the network; `charts` lays the figures out as server-side SVG; `links` names the list
behind each number; `exports` writes the medical association's reports (xlsx, CSV).
Counts only: nothing here reads a patient's details (別紙5 (2)).
"""
