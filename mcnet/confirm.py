"""A consequential one-click action asks first: its URL answers GET with a page saying what will
happen, and only the POST from that page acts. Works without JavaScript; a link from a list or a
notification lands on the question, never on the deed."""

from django.shortcuts import render


def confirm_page(
    request,
    *,
    title: str,
    lead: str,
    consequences: list[str],
    button: str,
    back_url: str,
    undo: str = "",
    danger: bool = True,
    status: int = 200,
):
    """The question before the action posted to this same URL. `consequences` spell out what
    will happen; `undo` says whether and how it can be undone (empty: it cannot)."""
    return render(
        request,
        "_confirm.html",
        {
            "title": title,
            "lead": lead,
            "consequences": consequences,
            "button": button,
            "back_url": back_url,
            "undo": undo,
            "danger": danger,
            "action": request.path,
        },
        status=status,
    )
