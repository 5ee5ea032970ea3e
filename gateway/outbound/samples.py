"""Sample values for every letter, for `templates preview` and the test that renders them all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gateway.config import DEFAULT_LAWFUL_BASIS

_SECTIONS = [
    {
        "title": "Overdue checks",
        "lines": ["RED police: MASH-2026-000123 overdue by 2 hours"],
        "todo": "Call the agency, or reply with CHECKS RED police to ask again.",
        "cli": "mash-gateway checks list --overdue",
    },
    {
        "title": "Incomplete referrals",
        "lines": [
            "MASH-2026-000124 (received 3 hours ago): missing date of birth or expected date"
        ],
        "todo": "",
        "cli": "",
    },
]
# What every letter gives (gateway/outbound/letter_values.py), as the defaults configure it.
COMMON: dict[str, Any] = {
    "mash_phone": "020 8356 5500",
    "complaints_address": "children.complaints@hackney.gov.uk",
    "complaints_phone": "020 8356 5800",
    "service_manager": "mash.service.manager@hackney.example",
    "escalation_policy_url": "https://www.chscp.org.uk/escalation-policy",
    "opens": "09:00",
    "closes": "17:00",
    "edt_phone": "0208 356 2710",
}
_OUTCOME = {
    **COMMON,
    "reference": "MASH-2026-000123",
    "public": False,
    "children": ["Amira"],
    "child_names": "Amira",
    "section": "47",
    "family_advised": False,
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
    "alert_id": 7,
    "rung": 0,
    "raised_at": "Saturday 07 March 2026 23:40 GMT",
    "sent_at": "Saturday 07 March 2026 23:40 GMT",
    "edt_copy": True,
    "edt_phone": "0208 356 2710",
    "acknowledge_within": timedelta(minutes=30),
}

SAMPLES: dict[str, dict[str, Any]] = {
    "steering_report": {
        "period": "1 January 2026 to 31 March 2026",
        "previous": "3 October 2025 to 31 December 2025",
        "attached": ["report.html", "report.pdf", "figures.json"],
        "headline": [("contacts", "4,012"), ("contacts about open cases", "fewer than 5")],
    },
    "ack_professional": {
        **COMMON,
        "rfi": False,
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
        **COMMON,
        "rfi": False,
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
        "household": {
            "adults": [
                {
                    "name": "Jo Okafor",
                    "relationship": "mother",
                    "date_of_birth": "1988-01-02",
                    "age": None,
                    "address": None,
                    "alleged": False,
                },
                {
                    "name": "Dan Okafor",
                    "relationship": "father",
                    "date_of_birth": None,
                    "age": 38,
                    "address": None,
                    "alleged": True,
                },
            ],
            "address": "12 Mare Street, London E8 1AA",
        },
        "sharing": {
            "consent": "given by the family",
            "lawful_basis": DEFAULT_LAWFUL_BASIS,
            "agreement": "London MASH DSA 2021 (confirmed 15 January 2025)",
        },
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
                "lines": [
                    "MASH-2026-000125: A.O. (6) [out of hours]\n"
                    "    Concern: A. arrived with bruising to her upper arm.\n"
                    "    Urgency: IMMEDIATE RISK, arrived out of hours (email, Mon 22:10)\n"
                    "    Checks: police RED pending, due in 2 hours\n"
                    "    Decision due: screening decision needed (protocol 4: within 24 hours)"
                ],
                "todo": "",
                "cli": "",
            },
            {
                "title": "Police notifications",
                "lines": [
                    "MASH-2026-000126: K.M. (3)\n    Concern: domestic incident, child present"
                ],
                "todo": "",
                "cli": "",
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
        "action": "Read the referral now and decide on a response: reply to this email with "
        "DECISION (A to D) and a Reason: paragraph, or call the referrer.",
        "cli": "mash-gateway contacts show MASH-2026-000123",
        "sent_at": "Tuesday 03 March 2026 10:12 GMT",
    },
    "disagreement_raised": {
        **COMMON,
        "reference": "MASH-2026-000123",
        "raised_by": "sam.teacher@stjohns.hackney.sch.uk",
        "text": "DISAGREE\nAmira has disclosed again today; please review the decision.",
        "respond_by": "Friday 06 March 2026",
        "disagreement_id": 1,
    },
    "disagreement_ack": {
        **COMMON,
        "reference": "MASH-2026-000123",
        "respond_by": "Friday 06 March 2026",
    },
    "disagreement_resolved": {
        **COMMON,
        "reference": "MASH-2026-000123",
        "outcome": "not-upheld",
        "reason": "The police checks show no incident since the school's referral.",
        "resolved_by": "Duty Manager <duty.manager@hackney.example>",
    },
    "contact_summary": {
        "reference": "MASH-2026-000123",
        "at": "Tuesday 03 March 2026 10:12",
        "sections": [
            {
                "title": "The contact",
                "lines": [
                    "Status: csc-screening",
                    "Received 22 hours ago by email",
                    "Children: Amira Okafor (6)",
                    "Concern: Amira arrived with bruising to her upper arm.",
                ],
            },
            {"title": "Checks", "lines": ["police RED pending, due in 40 minutes"]},
        ],
    },
    "rfi_answer": {
        **COMMON,
        "reference": "MASH-2026-000123",
        "answer": "Amira is not known to children's social care. No previous contacts.",
        "answered_by": "Duty Manager <duty.manager@hackney.example>",
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
        **COMMON,
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
