"""Demo data of the facilities (第7条): staff pledges, one education session at 高田 with its
attendees, one pending invitation (a new nurse invited at 高田) and face photos for 高田's two
staff.

Idempotent: pledges by (user, facility), the session by (facility, topic), the invitation by
(facility, e-mail) in any state, photos only where there is none.
"""

import datetime as dt
import io

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from . import services
from .models import EducationSession, Invitation, Occupation, StaffPledge, User, fiscal_year_start

EDUCATION_TOPIC = "MCネット運用規程と個人情報保護・IT機器のセキュリティ（第7条）"
INVITED_NURSE = "new.nurse@takada.example.jp"

# (e-mail, facility key, signed on — None for "waived: an existing pledge is on file")
PLEDGES = [
    ("admin@abc.example.jp", "abc", dt.date(2021, 9, 1)),
    ("doctor@abc.example.jp", "abc", None),
    ("cm@kasugano.example.jp", "kasugano", dt.date(2021, 9, 15)),
    ("admin@takada.example.jp", "takada", dt.date(2022, 4, 1)),
    ("nurse@takada.example.jp", "takada", dt.date(2022, 4, 1)),
]
# Face photos (留意事項 4): a plain drawn silhouette, stored once under a fixed name.
PHOTOS = {
    "admin@takada.example.jp": (70, 110, 160),
    "nurse@takada.example.jp": (190, 110, 140),
}


def _user(email: str) -> User:
    return User.objects.get(email=email)


def _silhouette(color: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (240, 240), (235, 240, 245))
    draw = ImageDraw.Draw(image)
    draw.ellipse((80, 40, 160, 120), fill=color)
    draw.ellipse((40, 130, 200, 300), fill=color)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _photo(user: User, color) -> None:
    if user.photo:
        return
    name = f"photos/demo/{user.pk}-demo.jpg"
    storage = user.photo.storage
    if not storage.exists(name):
        name = storage.save(name, ContentFile(_silhouette(color)))
    User.objects.filter(pk=user.pk).update(photo=name)


def load(facilities: dict) -> None:
    admin_takada = _user("admin@takada.example.jp")
    nurse = _user("nurse@takada.example.jp")
    takada = facilities["takada"]

    for email, key, signed_on in PLEDGES:
        user, facility = _user(email), facilities[key]
        if not StaffPledge.objects.filter(user=user, facility=facility).exists():
            services.pledge_record(
                actor=None,
                user=user,
                facility=facility,
                signed_on=signed_on,
                waived=signed_on is None,
                note="" if signed_on else "就業規則に基づく守秘義務の誓約書あり",
            )

    if not EducationSession.objects.filter(facility=takada, topic=EDUCATION_TOPIC).exists():
        today = timezone.localdate()
        held_on = min(today, fiscal_year_start(today) + dt.timedelta(days=30))
        services.education_session_save(
            actor=admin_takada,
            facility=takada,
            held_on=held_on,
            topic=EDUCATION_TOPIC,
            notes="資料: MCネット運用規程、利用上の留意事項",
            attendees=[admin_takada, nurse],
        )

    if not Invitation.objects.filter(facility=takada, email=INVITED_NURSE).exists():
        services.staff_invite(
            actor=admin_takada,
            facility=takada,
            email=INVITED_NURSE,
            name="春日新子",
            kana="かすが しんこ",
            occupation=Occupation.NURSE,
        )

    for email, color in PHOTOS.items():
        _photo(_user(email), color)
