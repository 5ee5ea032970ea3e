"""What kind of human mail this is: a free-text worry, an information request, a police
notification; and the references it quotes."""

from __future__ import annotations

import re
from email.message import Message
from email.utils import parseaddr

from gateway.inbound.referral.bodies import body_texts, html_text
from gateway.inbound.referral.model import Referral, missing_fields
from gateway.mail.addresses import single_address

REFERENCE = re.compile(r"\bMASH-\d{4}-\d{6}\b")

_CHILD_WORDS = re.compile(
    r"\b(child|children|son|daughter|baby|babies|boy|girl|kid|kids|pupil|toddler|infant|"
    r"teenager|young person|grandchild|grandson|granddaughter|niece|nephew)\b",
    re.I,
)
_WORRY_WORDS = re.compile(
    r"\b(worr(?:y|ied|ying)|concern(?:ed|s)?|abus\w*|neglect\w*|hurt\w*|hit(?:s|ting)?|"
    r"scared|afraid|unsafe|harm\w*|danger\w*|bruis\w*|hungry|alone|left on (?:his|her|their) own|"
    r"scream\w*|shout\w*|beat\w*|smack\w*|injur\w*|cry(?:ing)?|drunk|drugs?)\b",
    re.I,
)




def free_text_referral(message: Message) -> Referral | None:
    """A worried person writing in their own words (no form): the concern is their text, and
    every form field is missing, so the contact is incomplete and the acknowledgement asks."""
    plain, html = body_texts(message)
    if not plain.strip() and html:
        plain = html_text(html)
    text = "\n".join(
        line for line in plain.splitlines() if not line.lstrip().startswith(">")
    ).strip()
    if not (_CHILD_WORDS.search(text) and _WORRY_WORDS.search(text)):
        return None
    referral = Referral(concern=text, form="free text")
    name, address = parseaddr(str(message.get("From", "") or ""))
    referral.referrer.name = name.strip() or None
    referral.referrer.email = single_address(address)
    referral.missing = missing_fields(referral)
    return referral


_RFI = re.compile(r"\b(request(?:ing)? for information|information request|RFI)\b", re.I)


def is_information_request(message: Message) -> bool:
    """Another agency asking what the MASH knows, by the subject or the opening lines."""
    subject = str(message.get("Subject", "") or "")
    if _RFI.search(subject):
        return True
    plain, _html = body_texts(message)
    return bool(_RFI.search(plain[:500]))

