"""Every printed form: its code, title, template, and the object whose data fills it.

A form with a `target` can be printed for one object (`render_form CODE --id ID`, the
"PDF" buttons of the apps' pages); who may print or download it is who may see that object,
decided by the target's `visible_to(user)` — the owning app's selector, never a check here.
Every form can also be printed blank (to fill in by hand) and with sample data.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Model
from django.utils import translation

from . import contexts, sources
from .targets import Target


@dataclass(frozen=True)
class FormSpec:
    code: str
    annex: str  # where the rules define it
    title: str  # as listed on the portal's pages
    template: str
    targets: tuple[Target, ...] = field(default_factory=tuple)

    def blank_context(self) -> dict:
        with translation.override("ja"):
            return contexts.BLANK[self.code]()

    def sample_context(self, **options) -> dict:
        with translation.override("ja"):
            return contexts.sample(self.code, **options)

    def object_context(self, target: Target, obj: Model) -> dict:
        with translation.override("ja"):  # the forms are Japanese, whoever asks
            return target.context(obj)

    def target_for(self, model: type[Model] | str | None = None) -> Target | None:
        """The form's target for `model` (by class or label), or its first one."""
        if not self.targets:
            return None
        if model is None:
            return self.targets[0]
        label = model if isinstance(model, str) else model._meta.label
        return next((t for t in self.targets if t.model.lower() == label.lower()), None)


FACILITY = "facilities.Facility"


def _facility_target(context: Callable) -> Target:
    return Target(model=FACILITY, visible_to=sources.facilities_printable_by, context=context)


def build_registry() -> dict[str, FormSpec]:
    return {
        spec.code: spec
        for spec in (
            FormSpec(
                "besshi1",
                "別紙1",
                "利用申込書",
                "forms/besshi1.html",
                (
                    *sources.enrollment_targets("besshi1"),
                    _facility_target(sources.besshi1_for_facility),
                ),
            ),
            FormSpec(
                "besshi2",
                "別紙2",
                "連携守秘誓約書",
                "forms/besshi2.html",
                (
                    *sources.enrollment_targets("besshi2"),
                    _facility_target(sources.besshi2_for_facility),
                ),
            ),
            FormSpec(
                "besshi3",
                "別紙3",
                "一括登録代行申込書",
                "forms/besshi3.html",
                (
                    *sources.enrollment_targets("besshi3"),
                    _facility_target(sources.besshi3_for_facility),
                ),
            ),
            FormSpec(
                "besshi4",
                "別紙4",
                "利用登録変更・中止届書",
                "forms/besshi4.html",
                (
                    *sources.enrollment_targets("besshi4"),
                    _facility_target(sources.besshi4_for_facility),
                ),
            ),
            FormSpec(
                "besshi5",
                "別紙5",
                "ご利用者・ご家族様へのご案内（リーフレット）",
                "forms/besshi5.html",
            ),
            FormSpec("besshi6", "別紙6", "個人情報保護基本方針", "forms/besshi6.html"),
            FormSpec(
                "besshi7",
                "別紙7",
                "利用についての同意書（事業所控え・本人控え）",
                "forms/besshi7.html",
                sources.besshi7_targets(),
            ),
            FormSpec(
                "takeout",
                "第12条(9)",
                "情報及び情報機器の持ち出し届",
                "forms/takeout.html",
                sources.takeout_targets(),
            ),
        )
    }


_registry: dict[str, FormSpec] | None = None


def registry() -> dict[str, FormSpec]:
    global _registry
    if _registry is None:
        _registry = build_registry()
    return _registry


def get(code: str) -> FormSpec:
    try:
        return registry()[code]
    except KeyError:
        raise LookupError(f"unknown form {code!r}; one of {', '.join(registry())}") from None


FORM_CODES = (
    "besshi1",
    "besshi2",
    "besshi3",
    "besshi4",
    "besshi5",
    "besshi6",
    "besshi7",
    "takeout",
)
