"""Every printed form: its code, title, template, and the builder that fills it.

A form with a `target` can be printed for one object (`render_form CODE --id ID`, the
"PDF" buttons of the apps' pages); who may print or download it is who may see that object,
decided by the target's `visible_to(user)` — the owning app's selector, never a check here.
Every form can also be printed blank (to fill in by hand) and with sample data; the builder
of each form (`forms/<code>.py`) makes all three contexts.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Model
from django.utils import translation

from .forms import (
    academic_use,
    besshi1,
    besshi2,
    besshi3,
    besshi4,
    besshi5,
    besshi6,
    besshi7,
    besshi7_addendum,
    disclosure,
    leak_report,
    request_reply,
    staff_pledge,
    takeout,
    team_notice,
)
from .targets import Target


@dataclass(frozen=True)
class FormSpec:
    code: str
    annex: str  # where the rules define it
    title: str  # as listed on the portal's pages
    template: str
    targets: tuple[Target, ...] = field(default_factory=tuple)
    blank: Callable[[], dict] | None = None  # the form to fill in by hand
    sample: Callable[..., dict] | None = None  # filled with samples.py; else the blank one
    # Offered blank on the forms page; False: printed only for an object (a patient's request).
    offered_blank: bool = True

    def blank_context(self) -> dict:
        with translation.override("ja"):
            return self.blank()

    def sample_context(self, **options) -> dict:
        with translation.override("ja"):
            return (self.sample or self.blank)(**options)

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


FORMS = (
    FormSpec(
        "besshi1",
        "別紙1",
        "利用申込書",
        "forms/besshi1.html",
        besshi1.TARGETS,
        blank=besshi1.blank,
        sample=besshi1.sample,
    ),
    FormSpec(
        "besshi2",
        "別紙2",
        "連携守秘誓約書",
        "forms/besshi2.html",
        besshi2.TARGETS,
        blank=besshi2.blank,
        sample=besshi2.sample,
    ),
    FormSpec(
        "besshi3",
        "別紙3",
        "一括登録代行申込書",
        "forms/besshi3.html",
        besshi3.TARGETS,
        blank=besshi3.blank,
        sample=besshi3.sample,
    ),
    FormSpec(
        "besshi4",
        "別紙4",
        "利用登録変更・中止届書",
        "forms/besshi4.html",
        besshi4.TARGETS,
        blank=besshi4.blank,
        sample=besshi4.sample,
    ),
    FormSpec(
        "besshi5",
        "別紙5",
        "ご利用者・ご家族様へのご案内（リーフレット）",
        "forms/besshi5.html",
        blank=besshi5.blank,
    ),
    FormSpec(
        "besshi6",
        "別紙6",
        "個人情報保護基本方針",
        "forms/besshi6.html",
        blank=besshi6.blank,
    ),
    FormSpec(
        "besshi7",
        "別紙7",
        "利用についての同意書（事業所控え・本人控え）",
        "forms/besshi7.html",
        besshi7.TARGETS,
        blank=besshi7.blank,
        sample=besshi7.sample,
    ),
    FormSpec(
        "besshi7_addendum",
        "別紙7",
        "追加同意書（対象事業所の追加）",
        "forms/besshi7_addendum.html",
        besshi7_addendum.TARGETS,
        blank=besshi7_addendum.blank,
        sample=besshi7_addendum.sample,
    ),
    FormSpec(
        "academic_use",
        "留意事項4(3)",
        "学術利用についての同意書",
        "forms/academic_use.html",
        academic_use.TARGETS,
        blank=academic_use.blank,
        sample=academic_use.sample,
    ),
    FormSpec(
        "team_notice",
        "別紙5(2)",
        "あなたの支援チーム（ご本人・ご家族へのお知らせ）",
        "forms/team_notice.html",
        team_notice.TARGETS,
        blank=team_notice.blank,
        sample=team_notice.sample,
    ),
    FormSpec(
        "leak_report",
        "個人情報保護法第26条",
        "個人データの漏えい等の報告（下書き）",
        "forms/leak_report.html",
        leak_report.TARGETS,
        blank=leak_report.blank,
        sample=leak_report.sample,
    ),
    FormSpec(
        "takeout",
        "第12条(9)",
        "情報及び情報機器の持ち出し届",
        "forms/takeout.html",
        takeout.TARGETS,
        blank=takeout.blank,
        sample=takeout.sample,
    ),
    FormSpec(
        "staff_pledge",
        "第7条",
        "従事者誓約書",
        "forms/staff_pledge.html",
        staff_pledge.TARGETS,
        blank=staff_pledge.blank,
        sample=staff_pledge.sample,
    ),
    # 別紙6 ご本人の照会 (個人情報保護法 §33): for a recorded request only.
    FormSpec(
        "disclosure",
        "別紙6",
        "保有個人データの開示",
        "forms/disclosure.html",
        disclosure.TARGETS,
        blank=disclosure.blank,
        offered_blank=False,
    ),
    FormSpec(
        "request_reply",
        "別紙6",
        "ご本人からの請求への回答書",
        "forms/request_reply.html",
        request_reply.TARGETS,
        blank=request_reply.blank,
        offered_blank=False,
    ),
)
REGISTRY: dict[str, FormSpec] = {spec.code: spec for spec in FORMS}
# The forms offered blank (the forms page, `render_form`), in the registry's order.
FORM_CODES = tuple(spec.code for spec in FORMS if spec.offered_blank)


def registry() -> dict[str, FormSpec]:
    return REGISTRY


def get(code: str) -> FormSpec:
    try:
        return REGISTRY[code]
    except KeyError:
        raise LookupError(f"unknown form {code!r}; one of {', '.join(REGISTRY)}") from None
