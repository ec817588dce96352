"""One builder per printed form: from the apps' objects straight to its template's context.

Each module owns one form (templates/forms/<code>.html): the context it prints, built from
the domain objects it is printed for, blank (to fill in by hand) and with the sample data;
`base` holds what every form shares (the network's settings, dates in the Japanese era).
"""
