"""Sample values for every letter, for `templates preview` and the test that renders them all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

_SECTIONS = [
    {"title": "Overdue checks", "lines": ["RED police: MASH-2026-000123 late by 2 hours"]},
    {
        "title": "Incomplete referrals",
        "lines": [
            "MASH-2026-000124 (received 3 hours ago): missing date of birth or expected date"
        ],
    },
]
_OUTCOME = {
    "reference": "MASH-2026-000123",
    "public": False,
    "children": ["Amira"],
    "section": None,
}

_ALERT: dict[str, Any] = {
    "title": "urgent: possible immediate risk",
    "lines": [
        "What: a new referral (out of hours).",
        "The form says immediate risk",
        "Received out of hours.",
    ],
    "reference": "MASH-2026-000123",
    "tag": "[ALERT #K7Q2XW4P]",
    "rung": 0,
    "raised_at": "Saturday 07 March 2026 23:40 GMT",
    "sent_at": "Saturday 07 March 2026 23:40 GMT",
    "edt_copy": True,
    "edt_phone": "0208 356 2710",
    "acknowledge_within": timedelta(minutes=30),
}

SAMPLES: dict[str, dict[str, Any]] = {
    "ack_professional": {
        "reference": "MASH-2026-000123",
        "out_of_hours": True,
        "edt_phone": "0208 356 2710",
        "missing": ["date of birth or expected date", "immediate risk"],
        "asks": ["Child's date of birth (or the expected date of delivery for an unborn baby)"],
        "risk_unknown": True,
        "urgent": False,
        "due_by": None,
        "opens": "09:00",
        "closes": "17:00",
        "on_behalf_of": "Kim Mentor",
        "forwarded": False,
    },
    "ack_public": {
        "reference": "MASH-2026-000123",
        "out_of_hours": False,
        "edt_phone": "0208 356 2710",
        "missing": ["child name", "address"],
        "asks": [
            "the child's name, if you know it",
            "where the child lives: the address, or the street and town if that is all",
        ],
        "risk_unknown": True,
        "urgent": False,
        "due_by": None,
        "opens": "09:00",
        "closes": "17:00",
        "on_behalf_of": None,
        "forwarded": True,
    },
    "ack_notification": {"reference": "MASH-2026-000126", "meeting_at": "08:30"},
    "check_request": {
        "reference": "MASH-2026-000123",
        "rag": "RED",
        "tag": "[#K7Q2XW4P]",
        "agency": "Police Public Protection Desk",
        "children": [
            {
                "given_name": "Amira",
                "family_name": "Okafor",
                "date_of_birth": "2019-04-03",
                "expected_date": None,
                "unborn": False,
                "nhs_number": "9434765919",
                "address": "12 Mare Street, London E8 1AA",
            }
        ],
        "context": "School reports bruising; we need to know whether the household is known.",
        "questions": ["Any call-outs to the address in the last 12 months?"],
        "due": "Tuesday 03 March 2026 14:00",
        "reply_within": timedelta(hours=4),
    },
    "check_chase": {
        "reference": "MASH-2026-000123",
        "rag": "AMBER",
        "tag": "[#K7Q2XW4P]",
        "due": "Wednesday 04 March 2026 10:00",
        "escalated": True,
        "second": True,
    },
    "check_withdrawn": {
        "reference": "MASH-2026-000123",
        "rag": "AMBER",
        "tag": "[#K7Q2XW4P]",
    },
    "command_result": {
        "reference": "MASH-2026-000123",
        "accepted": True,
        "command": "CHECKS RED police",
        "lines": ["RED check to police, due Tuesday 03 March 14:00"],
    },
    "digest": {"slot": "Tuesday 03 March 2026 09:00", "sections": _SECTIONS, "items": 2},
    "meeting_agenda": {
        "slot": "Tuesday 03 March 2026 08:30",
        "items": 2,
        "sections": [
            {
                "title": "URGENT: possible immediate risk",
                "lines": ["MASH-2026-000125 (email, received Mon 22:10) [out of hours]"],
            },
            {
                "title": "Police notifications",
                "lines": ["MASH-2026-000126 (police notification, received Tue 02:40)"],
            },
        ],
    },
    "forward_to_unit": {
        "reference": "MASH-2026-000123",
        "unit": "Children in Need Unit 4",
        "open": True,
        "closed_on": None,
        "matched_by": "NHS number",
    },
    "manager_alert": {
        "title": "urgent referral: possible immediate risk",
        "reference": "MASH-2026-000123",
        "lines": ["The referrer says the child is at immediate risk."],
        "action": "Read contact MASH-2026-000123 now and decide on a response.",
        "sent_at": "Tuesday 03 March 2026 10:12 GMT",
    },
    "urgent_alert": _ALERT,
    "edt_alert": {
        **_ALERT,
        "children": [
            {
                "name": "Amira Okafor",
                "date_of_birth": "2019-04-03",
                "address": "12 Mare Street, London, E8 1AA",
            }
        ],
        "concern": "Dad has come back drunk and is smashing things; the children are in "
        "immediate danger.",
        "where_now": None,
        "police_reference": None,
        "new_text": None,
        "referrer": {
            "name": "Sam Teacher",
            "role": "DSL",
            "agency": "St John's Primary School",
            "email": "sam.teacher@stjohns-school.example",
            "phone": "020 7946 0000",
        },
    },
    "pgp_notice": {"problem": "your OpenPGP key has expired"},
    "section47_referral": {
        "reference": "MASH-2026-000123",
        "reason": "Disclosure of physical harm by a parent; strategy discussion held.",
    },
    **{
        f"outcome_{name}": dict(_OUTCOME)
        for name in (
            "advice_and_guidance",
            "community_service",
            "early_help",
            "statutory_assessment",
            "no_further_action",
            "forwarded_to_unit",
        )
    },
}
