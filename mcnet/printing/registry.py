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

from . import contexts, disclosure, sources
from .targets import Target


@dataclass(frozen=True)
class FormSpec:
    code: str
    annex: str  # where the rules define it
    title: str  # as listed on the portal's pages
    template: str
    targets: tuple[Target, ...] = field(default_factory=tuple)
    # Printed only for an object (not offered blank on the forms page): its empty context.
    blank: Callable[[], dict] | None = None

    def blank_context(self) -> dict:
        with translation.override("ja"):
            return (self.blank or contexts.BLANK[self.code])()

    def sample_context(self, **options) -> dict:
        with translation.override("ja"):
            if self.blank is not None:
                return self.blank()
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
                "besshi7_addendum",
                "別紙7",
                "追加同意書（対象事業所の追加）",
                "forms/besshi7_addendum.html",
                sources.besshi7_addendum_targets(),
            ),
            FormSpec(
                "academic_use",
                "留意事項4(3)",
                "学術利用についての同意書",
                "forms/academic_use.html",
                sources.academic_use_targets(),
            ),
            FormSpec(
                "team_notice",
                "別紙5(2)",
                "あなたの支援チーム（ご本人・ご家族へのお知らせ）",
                "forms/team_notice.html",
                sources.team_notice_targets(),
            ),
            FormSpec(
                "leak_report",
                "個人情報保護法第26条",
                "個人データの漏えい等の報告（下書き）",
                "forms/leak_report.html",
                sources.leak_report_targets(),
            ),
            FormSpec(
                "takeout",
                "第12条(9)",
                "情報及び情報機器の持ち出し届",
                "forms/takeout.html",
                sources.takeout_targets(),
            ),
            FormSpec(
                "staff_pledge",
                "第7条",
                "従事者誓約書",
                "forms/staff_pledge.html",
                sources.staff_pledge_targets(),
            ),
            # 別紙6 ご本人の照会 (個人情報保護法 §33): for a recorded request only.
            FormSpec(
                "disclosure",
                "別紙6",
                "保有個人データの開示",
                "forms/disclosure.html",
                disclosure.disclosure_targets(),
                blank=disclosure.blank_disclosure,
            ),
            FormSpec(
                "request_reply",
                "別紙6",
                "ご本人からの請求への回答書",
                "forms/request_reply.html",
                disclosure.reply_targets(),
                blank=disclosure.blank_reply,
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
    "besshi7_addendum",
    "academic_use",
    "team_notice",
    "leak_report",
    "takeout",
    "staff_pledge",
)
