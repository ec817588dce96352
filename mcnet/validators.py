import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class LettersAndDigitsValidator:
    """Art. 11 (3): passwords mix letters and digits (英数混合). Says which one is missing."""

    def validate(self, password, user=None):
        errors = []
        if not re.search(r"[A-Za-z]", password):
            errors.append(
                ValidationError(
                    _(
                        "パスワードに英字（a〜z, A〜Z）が含まれていません。英字と数字を混ぜてください。"
                    ),
                    code="password_no_letter",
                )
            )
        if not re.search(r"[0-9]", password):
            errors.append(
                ValidationError(
                    _("パスワードに数字（0〜9）が含まれていません。英字と数字を混ぜてください。"),
                    code="password_no_digit",
                )
            )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self):
        return _("英字と数字を混ぜて8文字以上にしてください（運用規程 第11条(3)）。")
