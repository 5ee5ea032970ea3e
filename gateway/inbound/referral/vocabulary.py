"""The words of referral forms: whose a label is, what it asks, what we keep.

Every wording here is in `labels.normalise` form (lower case, no punctuation, singular,
"child's" as "child") and has its subject words already removed ("child first name" is
looked up as "first name"); tests/data/referral_labels is the corpus they were drawn from.
"""

from __future__ import annotations

import re

# Whose field the label's own words name. Tried in this order: "the person making this
# referral" is the referrer even though a child is mentioned.
REFERRER_RE = re.compile(
    r"\b(referrer|referring|referred by|your?|person (?:making|completing|referring|reporting)"
    r"|practitioner making|professional making|reporter|about you)\b"
)
# Labels that are the referrer's name by themselves: "Referred by:", "Request for service from".
REFERRER_NAME = re.compile(
    r"^(?:request for service(?: referral)? from|referral from|referred by)$"
)
PARENT_RE = re.compile(
    r"\b(parent|parental|carer|mother|father|mum|dad|guardian|step ?parent|household"
    r"|sibling|brother|sister|adult|partner|perpetrator|family member|main carer"
    r"|primary carer|person with parental responsibility)\b"
)
OTHER_RE = re.compile(
    r"\b(social worker|lead professional|safeguarding lead|designated|health visitor"
    r"|school nurse|midwife|worker|manager|consultant|interpreter|emergency contact"
    r"|police officer|lead practitioner|key worker)\b"
)
CHILD_RE = re.compile(
    r"\b(child|young person|young people|yp|cyp|pupil|baby|unborn|infant|student|son"
    r"|daughter|juvenile)\b"
)
# "Child you are concerned about": you are not the owner.
YOU_OBJECT = re.compile(r"\byou (?:are )?(?:concerned about|worried about|referring|aware of)\b")
# "Relationship to child": the child is the object, the label names nobody.
OBJECT_CHILD = re.compile(
    r"\b(?:relationship|relation|related) to (?:the )?(?:child|young person|above)\b"
)
SUBJECT_WORDS = re.compile(
    r"\b(referrer|referring|referred by|your?|person (?:making|completing|referring|reporting)"
    r"|parent|parental|carer|mother|father|guardian|child|young person|young people|yp|cyp"
    r"|pupil|baby|unborn|infant|student)\b"
)
FILLER = frozenset(
    [
        "of",
        "the",
        "a",
        "an",
        "your",
        "their",
        "his",
        "her",
        "its",
        "this",
        "is",
        "are",
        "in",
        "on",
        "at",
        "for",
        "s",
        "please",
        "state",
        "give",
        "detail",
        "if",
        "known",
        "where",
        "applicable",
        "current",
        "full",
        "being",
        "referred",
        "referral",
    ]
)

ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "given": ("first name", "given name", "forename", "christian name", "first"),
    "family": ("surname", "family name", "last name", "second name"),
    "name": ("name", "full name", "name in full"),
    "dob": ("dob", "date birth", "birth date", "birthday", "date birth age"),
    "dob_or_edd": (
        "dob edd",
        "dob or edd",
        "date birth or edd",
        "date birth edd",
        "date birth or expected date delivery",
        "date birth or estimated date delivery",
        "date birth estimated due date",
        "date birth or expected delivery date",
        "date birth expected delivery date",
        "date birth estimated delivery date",
        "date birth or expected due date",
        "dob or expected date delivery",
    ),
    "edd": (
        "edd",
        "expected date delivery",
        "estimated date delivery",
        "expected delivery date",
        "estimated delivery date",
        "due date",
        "expected due date",
        "estimated due date",
    ),
    "nhs": ("nhs number", "nhs no", "nhs"),
    "address": (
        "address",
        "home address",
        "current address",
        "current home address",
        "address postcode",
        "primary address",
        "address and postcode",
        "where doe live",
        "where live",
        "usual address",
    ),
    "postcode": ("postcode", "post code"),
    "gender": ("gender", "sex", "m f", "male female"),
    "school": (
        "school",
        "school nursery",
        "nursery school",
        "school attended",
        "school attending",
        "education setting",
        "educational setting",
        "education provider",
        "pre school",
        "early year setting",
        "name school",
        "setting",
    ),
    "gp": ("gp", "gp practice", "gp surgery", "gp name and practice", "doctor"),
    "email": ("email", "email address", "secure email", "secure email address"),
    "phone": (
        "telephone",
        "phone",
        "tel",
        "mobile",
        "telephone number",
        "phone number",
        "tel no",
        "contact number",
        "contact telephone number",
        "contact tel no",
        "contact no",
        "mobile number",
        "telephone mobile",
        "tel mobile",
        "home telephone no",
    ),
    "contact": ("contact detail", "contact", "email telephone", "telephone email"),
    "role": ("role", "job title", "designation", "position", "profession", "title"),
    "agency": (
        "agency",
        "organisation",
        "organization",
        "agency school",
        "name organisation",
        "agency address",
        "agency and address",
        "service",
        "team",
        "employer",
        "department",
    ),
}

# When no wording matches, the words that give an attribute away, strongest first:
# "Nursery/School/ Children's Centre Address/ Contact" is the school, "GP name and practice"
# the GP, "Name of organisation" the agency.
KEYWORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("nhs", re.compile(r"\bnhs\b")),
    ("contact", re.compile(r"\b(email|telephone|phone|tel)\b.*\b(email|telephone|phone|tel)\b")),
    ("email", re.compile(r"\bemail\b")),
    ("gp", re.compile(r"\b(gp|surgery|doctor)\b")),
    ("school", re.compile(r"\b(school|nursery|education|college|academy|setting)\b")),
    ("dob_or_edd", re.compile(r"\b(dob|birth)\b.*\b(edd|delivery|due)\b")),
    ("dob", re.compile(r"\b(dob|birth)\b")),
    ("edd", re.compile(r"\b(edd|delivery|due date)\b")),
    ("agency", re.compile(r"\b(organisation|organization|agency|department)\b")),
    ("role", re.compile(r"\b(role|job title|designation)\b")),
    ("family", re.compile(r"\b(surname|family name|last name)\b")),
    ("given", re.compile(r"\b(forename|first name|given name)\b")),
    ("postcode", re.compile(r"\bpost ?code\b")),  # "Postcode of child's address"
    ("address", re.compile(r"\baddress\b")),
    ("name", re.compile(r"\bname\b")),
    ("phone", re.compile(r"\b(telephone|phone|mobile|tel)\b")),
    ("gender", re.compile(r"\b(gender|sex)\b")),
)
# Questions ("Is the child attending school?") and explanations ("Reason for residence at
# this address") are never read by keyword.
KEYWORD_BLOCK = re.compile(
    r"\b(reason|why|how|what|who|when|describe|explain|residence|living|lived|moved|long"
    r"|ever|previous|view|consulted)\b"
)
QUESTION_START = re.compile(r"^(is|are|has|have|does|do|did|was|were|can|will|would|should)\b")

# Not this field but another like it: a previous address, other names.
NOT_THIS = re.compile(
    r"\b(previous|former|alternative|other relevant|any other|if different|also known"
    r"|known as?|aka|alias|other name|preferred name|nick ?name|reference|ref no|id number)\b"
)

# Labels that are labels (their value is not narrative) but hold nothing the contact keeps.
_IGNORED = (
    r"ethnicity|ethnic origin|ethnic group|religion|faith|language|first language"
    r"|preferred language|interpreter|signer|age|disability|disabilitie|special need|sen|send"
    r"|ehcp|upn|unique pupil number|immigration status|legal status|nationality"
    r"|relationship|date referral|date and time referral|time referral|date|time|date time"
    r"|alias|aka|also known a|other name|alternative name|known a|previous name"
    r"|previous address|other relevant address|ni number|national insurance number"
    r"|signature|signed|caf|early help|lead professional|tick if estimated|unborn|pr"
    r"|parental responsibility|responsibility|reference|reference number|personal id"
    r"|consultation number|live with|life with|lives with"
    r"|status|focus referral|secure|communication need|carefirst id|ssid no|service name"
    r"|gender|sex"
)
IGNORED_WORDS = re.compile(rf"^(?:.* )?({_IGNORED})(?: .*)?$")
IGNORED_EXACT = re.compile(rf"^({_IGNORED})$")

QUESTIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "immediate_risk",
        re.compile(
            r"\b(immediate|imminent|immediately|right now|currently at risk|at risk now"
            r"|in danger now|safe now|safe at the moment|safe tonight|safe right now)\b"
        ),
    ),
    (
        "categories",
        re.compile(
            r"\b(category|categorie|type (?:of )?(?:concern|harm|abuse)|nature (?:of )?harm"
            r"|kind (?:of )?harm|concern category|abuse type)\b"
        ),
    ),
    (
        "parents_aware",
        re.compile(
            r"\b(parent|carer|family|mother|father|parental responsibility|guardian)\b"
            r".*\b(aware|informed|inform|told|discussed|know|spoken|notified)\b"
            r"|\b(aware|informed|inform|told|discussed|spoken|notified)\b.*\b(parent|carer"
            r"|family|mother|father|parental responsibility|guardian)\b"
        ),
    ),
    (
        "child_aware",
        re.compile(
            r"\b(child|young person|yp|cyp)\b.*\b(aware|informed|told|discussed|spoken)\b"
            r"|\b(aware|informed|told|discussed|spoken)\b.*\b(child|young person|yp|cyp)\b"
        ),
    ),
    ("consent", re.compile(r"\b(consent|consented|permission|agreement to|agreed to|agree to)\b")),
    (
        "child_views",
        re.compile(r"\b(child|young person)\b.*\b(view|voice|wish|feeling|say)\b|\bvoice child\b"),
    ),
    (
        "concern",
        re.compile(
            r"\b(concern|worry|worried|worrie|reason referral|reason for referral"
            r"|reason referring|why are you referring|why are you contacting|what happened"
            r"|what ha happened|danger risk|current danger|presenting issue|what is happening"
            r"|incident)\b"
        ),
    ),
)
# Concern questions that start like follow-ups ("Why are you referring...?").
CONCERN_FIRST = re.compile(
    r"^(why are you (?:referring|contacting|making)|what are you worried|what is the concern"
    r"|why are you worried)\b"
)
HOUSEHOLD = re.compile(
    r"\b(household|who live with|living with child|family composition|composition family"
    r"|who else live|family member|cared for)\b"
)
CARER_WORDS = frozenset(
    ["parent", "carer", "guardian", "main", "primary", "and", "or", "name", "detail"]
)

# Follow-ups ("If no, why not?", "Who gave the consent?") and other prompts that are labels
# but never the answer to the question before them.
FOLLOW_UP = re.compile(
    r"^(if|who|whose|why|when|how|what advice|name and position|name and contact)\b"
    r"|\bwhy not\b|\breason why\b|\bplease say why\b|\bprevious\b"
    r"|\bwhat support\b|\bwhat ha your agency\b|\bstrength\b|\bgoing well\b"
    r"|\b(parent|carer|family|mother|father)\b.*\bview\b"
)

# Section headings.
HEADING_NUMBER = re.compile(
    r"^\s*(?:(?:section|part|step)\s+)?(?:\d{1,2}[a-z]?|[a-h]|[ivx]{1,4})\s*[.):\-\u2013]\s*"
    r"|^\s*(?:section|part|step)\s+(?:\d{1,2}|[a-h])\s+",
    re.I,
)
# Prompts, not labels of ours: "Evidence for Referral - How is the situation impacting...".
PROMPT = re.compile(
    r"\b(how|what|why|when|where|who|please|describe|details|evidence|include|including|list"
    r"|specify|provide|explain)\b",
    re.I,
)
HEADING_FILLER = frozenset(
    [
        "detail",
        "information",
        "about",
        "section",
        "part",
        "of",
        "the",
        "a",
        "and",
        "being",
        "referred",
        "referral",
        "making",
        "completing",
        "this",
        "form",
        "person",
        "people",
        "young",
        "living",
        "in",
        "at",
        "above",
        "address",
        "who",
        "you",
        "are",
        "concerned",
        "to",
        "other",
        "known",
        "all",
        "subject",
        "under",
        "18",
        "identifying",
        "record",
        "including",
        "your",
        "involved",
        "significant",
        "or",
        "with",
        "related",
    ]
)
GENERAL_HEADING = re.compile(
    r"\b(consent|confidentiality|concern|reason referral|reason for referral|risk|agencie"
    r"|agency involvement|professional|service|assessment|outcome|decision|office use"
    r"|declaration|information sharing|school|education|gp|health|setting)\b"
)
REFERRER_HEADING = re.compile(r"^(?:referral detail|referrer|referrers? detail)\b")
CHILD_HEADING = re.compile(r"^identifying detail\b")
