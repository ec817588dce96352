"""Account forms: the MCS ID is normalized, and no password is offered to the browser to keep."""

from allauth.account import forms as allauth_forms

from mcnet.forms import NormalizedEmailField, no_browser_storage


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
