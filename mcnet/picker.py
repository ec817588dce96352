"""A choice among thousands (20,000 facilities): the checkboxes show only what matters — the
defaults, what is already chosen, and the matches of a search typed in the widget itself.

Without JavaScript the search is the widget's own submit button: the view re-shows the form,
unsaved, with the matches added (`search_requested`, `posted_as_initial`). picker.js searches as
one types, from the same-origin JSON of `search_url` (CSP forbids inline script)."""

from django import forms
from django.utils.translation import gettext_lazy as _

# How many matches one search adds: enough to find a facility by part of its name.
PICKER_RESULTS = 20


class SearchPicker(forms.CheckboxSelectMultiple):
    template_name = "mcnet/widgets/picker.html"

    def __init__(self, *, search_url="", search_label="", attrs=None):
        super().__init__(attrs)
        self.search_url = search_url
        self.search_label = search_label or _("名前で探す")
        self.query = ""
        self.found = None  # how many matches the last search added (None: no search)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"].update(
            {
                "search_name": search_field_name(name),
                "search_button": search_button_name(name),
                "search_url": str(self.search_url),
                "search_label": self.search_label,
                "query": self.query,
                "found": self.found,
            }
        )
        return context


def search_query(value) -> str:
    """What was typed into a picker's search, safe to search with: one line of at most 100
    characters, without the NUL a database refuses."""
    return str(value or "").replace("\x00", "").strip()[:100]


def search_field_name(name: str) -> str:
    return f"{name}_q"


def search_button_name(name: str) -> str:
    return f"{name}_search"


def search_requested(request, name: str) -> bool:
    """The no-script search button of picker `name` was pressed: show the form again, unsaved."""
    return request.method == "POST" and search_button_name(name) in request.POST


def posted_as_initial(request) -> dict:
    """What was typed, as the initial values of an unbound form (a search is not a submission:
    no error is shown for what is not filled in yet)."""
    return {key: values if len(values) > 1 else values[0] for key, values in request.POST.lists()}


def show_choices(field: forms.ModelMultipleChoiceField, *, chosen, defaults, found=None, query=""):
    """Render only `chosen` ∪ `defaults` ∪ `found` (querysets or lists of objects), chosen first;
    validation still accepts any object of the field's queryset."""
    seen, choices = set(), []
    for obj in [*chosen, *defaults, *(found or [])]:
        if obj.pk not in seen:
            seen.add(obj.pk)
            choices.append((obj.pk, field.label_from_instance(obj)))
    field.widget.choices = choices
    field.widget.query = query
    field.widget.found = None if found is None else len(found)
