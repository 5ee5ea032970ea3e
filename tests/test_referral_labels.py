"""Labels as real forms word them: near-misses match, another person's name never becomes the
child's; sections, tables, split names, dates in words, yes/no answers; the corpus of label
sets from published English referral forms reads as expected in text, HTML and Word."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from helpers import config
from referral_corpus import compare, forms, message, reading

from gateway.domain.effects import CreateContact, RaiseAlert
from gateway.inbound.handlers.spine import default_handlers
from gateway.inbound.inspection import _NoState
from gateway.inbound.pipeline import PROCESS_STEPS, StepContext, Work, run
from gateway.inbound.referral.answers import read_date, yes_no
from gateway.inbound.referral.labels import match_label
from gateway.inbound.referral.names import split_name
from gateway.inbound.referral.parse import parse_referral

NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


def _mail(body: str, *, subtype: str = "plain", sender: str = "sam@school.example") -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Sam Teacher <{sender}>"
    mail["To"] = "mash@hackney.example"
    mail["Subject"] = "Referral"
    mail["Message-ID"] = "<labels-test@school.example>"
    mail.set_content(body, subtype=subtype)
    return mail.as_bytes()


def _parse(body: str, *, subtype: str = "plain"):  # type: ignore[no-untyped-def]
    message = message_from_bytes(_mail(body, subtype=subtype), policy=default)
    assert isinstance(message, EmailMessage)
    return parse_referral(message)


# The labels issue 13 found missed, as a new user would type them.
@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("Child's Full Name", "child_name"),
        ("Date of Birth (DD/MM/YYYY)", "date_of_birth"),
        ("NHS Number (if known)", "nhs_number"),
        ("E-mail", "referrer_email"),
        ("Details of concerns", "concern"),
        ("Child's school", "school"),
        ("Immediate risk to the child", "immediate_risk"),
        ("Parent/carer name", "household"),
        ("Are the parents aware of this referral?", "parents_aware"),
        ("Is the child at immediate risk?", "immediate_risk"),
        ("D.O.B.", "date_of_birth"),
        ("Name of child(ren)", "child_name"),
        ("Referrer name", "referrer_name"),
        ("Date of brith", "date_of_birth"),  # near-misses, scored with rapidfuzz
        ("Adress", "address"),
        ("Surnmae", "family_name"),
        ("Post code", "postcode"),
        ("Child/young person's NHS no.", "nhs_number"),
        ("Expected date of delivery (if unborn)", "expected_date"),
        ("Is the child safe now?", "immediate_risk"),
    ],
)
def test_labels_as_people_write_them(label: str, key: str) -> None:
    assert match_label(label).key == key


@pytest.mark.parametrize(
    "label",
    [
        "Parent/carer name",
        "Parent/carer's full name",
        "Name of parent/carer",
        "Mother's full name",
        "Father's name",
        "Referrer name",
        "Name of referrer",
        "Your name",
        "Name of person completing this form",
        "Parent/carer nmae",
        "Referer name",
        "Social worker's name",
        "Name of GP",
    ],
)
def test_another_persons_name_is_never_the_childs(label: str) -> None:
    for section in (None, "child", "parent", "referrer"):
        match = match_label(label, section)
        assert match.key not in ("child_name", "given_name", "family_name"), (label, section)


def test_immediate_risk_answered_yes_raises_the_urgent_alert() -> None:
    body = (
        "Child's name: Amira Okafor\nDate of birth: 03/04/2019\n"
        "Referrer's name: Sam Teacher\nEmail: sam@school.example\n"
        "Is the child at immediate risk?: Yes\n"
    )
    referral = _parse(body)
    assert referral.immediate_risk is True
    ctx = StepContext(config(), NOW, _NoState(), default_handlers())
    decision = run(PROCESS_STEPS, Work(raw=_mail(body)), ctx).decision
    assert decision is not None
    (created,) = decision.of(CreateContact)
    assert created.draft.immediate_risk is True
    (alert,) = decision.of(RaiseAlert)
    assert [r.signal for r in alert.reasons] == ["immediate-risk"]


@pytest.mark.parametrize(
    ("answer", "risk"),
    [("Yes", True), ("Y", True), ("Yes - father threatened her", True), ("No", False),
     ("N", False), ("Yes ☐ No ☒", False), ("☒ Yes ☐ No", True), ("Y/N", None),
     ("Yes / No", None), ("Not known", None), ("No \u2013 seen today, safe", False)],
)
def test_yes_no_answers(answer: str, risk: bool | None) -> None:
    assert yes_no(answer) is risk
    assert _parse(f"Child's name: Jo Smith\nImmediate risk: {answer}\n").immediate_risk is risk


def test_sections_decide_whose_name_and_dob_follow() -> None:
    referral = _parse(
        "CHILD\nName: Leo Brown\nDOB: 05/06/2012\nAddress: 3 Well Street, London E9 7PX\n\n"
        "PARENT / CARER\nName: Kim Brown\nDOB: 01/01/1990\n\n"
        "REFERRER\nName: PC Alex Jones\nEmail: alex.jones@police.example\n"
    )
    (child,) = referral.children
    assert (child.given_name, child.family_name) == ("Leo", "Brown")
    assert child.date_of_birth == "2012-06-05"
    assert referral.household == "Kim Brown"
    assert referral.referrer.name == "PC Alex Jones"
    assert referral.referrer.email == "alex.jones@police.example"


def test_a_table_with_a_header_row_gives_one_child_a_row() -> None:
    html = (
        "<table><tr><th>First name</th><th>Surname</th><th>DOB</th><th>School</th></tr>"
        "<tr><td>Leo</td><td>Brown</td><td>5th June 2012</td><td>Mandeville</td></tr>"
        "<tr><td>Mia</td><td>Brown</td><td>05/06/2014</td><td>Mandeville</td></tr></table>"
        "<table><tr><th>Name</th><th>Relationship to child</th><th>DOB</th></tr>"
        "<tr><td>Kim Brown</td><td>Mother</td><td>01/01/1990</td></tr></table>"
    )
    referral = _parse(html, subtype="html")
    assert [(c.given_name, c.date_of_birth) for c in referral.children] == [
        ("Leo", "2012-06-05"),
        ("Mia", "2014-06-05"),
    ]
    assert referral.household == "Kim Brown"  # the household table is nobody's child


def test_label_dash_value_lines() -> None:
    referral = _parse("Child's name - Amira Okafor\nDate of birth - 3rd March 2010\n")
    assert referral.children[0].full_name == "Amira Okafor"
    assert referral.children[0].date_of_birth == "2010-03-03"


@pytest.mark.parametrize(
    ("written", "given", "family"),
    [
        ("Amira Okafor", "Amira", "Okafor"),
        ("OKAFOR, Amira", "Amira", "OKAFOR"),
        ("OKAFOR Amira", "Amira", "OKAFOR"),
        ("Jo Ann SMITH", "Jo Ann", "SMITH"),
        ("Mary van der Berg", "Mary", "van der Berg"),
        ("Amelia Rose Hart", "Amelia Rose", "Hart"),
        ("Unborn baby Brown", "Unborn baby", "Brown"),
        ("Tom", "Tom", None),
    ],
)
def test_names_split_sensibly_and_the_whole_is_kept(
    written: str, given: str, family: str | None
) -> None:
    split = split_name(written)
    assert (split.given, split.family, split.full) == (given, family, written)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3rd March 2010", date(2010, 3, 3)),
        ("Tuesday 3rd of March 2015", date(2015, 3, 3)),
        ("March 3rd, 2010", date(2010, 3, 3)),
        ("third of March 2010", date(2010, 3, 3)),
        ("twenty-first of June 2013", date(2013, 6, 21)),
        ("03-Mar-2010", date(2010, 3, 3)),
        ("05/06/2012 (age 13)", date(2012, 6, 5)),
        ("31st February 2019", None),
        ("not known", None),
    ],
)
def test_dates_in_numbers_and_words(text: str, expected: date | None) -> None:
    assert read_date(text) == expected


def test_a_fifty_thousand_line_chronology_parses_in_linear_time() -> None:
    line = "03/03/2026 14:05 Police attended; mother said the children were asleep upstairs.\n"
    head = "Child's name: Amira Okafor\nConcern: chronology follows\n"

    def seconds(lines: int) -> float:
        body = head + line * lines
        start = time.process_time()  # CPU time: the machine running the tests is shared
        referral = _parse(body)
        elapsed = time.process_time() - start
        assert referral.concern is not None and referral.concern.count("\n") == lines
        return elapsed

    small, large = seconds(5_000), seconds(50_000)
    assert large < 5.0  # the bench's target is 1 s; this machine is shared
    assert large < 25 * max(small, 0.01)  # ten times the text, not a hundred times the work


CORPUS = forms()


def test_the_corpus_has_forty_label_sets_in_three_shapes() -> None:
    assert len(CORPUS) >= 40
    assert {shape for form in CORPUS for shape in form.shapes} == {"text", "html", "docx"}
    assert all(form.source and form.url and form.expect for form in CORPUS)


@pytest.mark.parametrize(
    ("index", "shape"),
    [(i, shape) for i, form in enumerate(CORPUS) for shape in form.shapes],
    ids=[f"{form.name}-{shape}" for form in CORPUS for shape in form.shapes],
)
def test_corpus_label_sets_read_as_expected(index: int, shape: str) -> None:
    form = CORPUS[index]
    parsed = message_from_bytes(message(form, shape, index), policy=default)
    assert isinstance(parsed, EmailMessage)
    got = reading(parse_referral(parsed))
    wrong = {name: counts for name, counts in compare(form, got).items() if counts[1] or counts[2]}
    assert not wrong, {path: got.get(path) for path in sorted(set(got) | set(form.expect))}


def test_inspect_json_gives_each_childs_fields_and_the_answers() -> None:
    from gateway.inbound.inspection import inspect_bytes

    body = (
        "CHILD\nName: OKAFOR, Amira\nDate of birth: 3rd April 2019\nNHS number: 943 476 5919\n"
        "Is the child at immediate risk?: Yes\nAre the parents aware of this referral?: N\n"
        "Consent: Not sought - would place the child at risk\n"
    )
    result = inspect_bytes(_mail(body), config(), NOW)
    referral = result["referral"]
    (child,) = referral["children"]
    assert {k: child[k] for k in ("given_name", "family_name", "date_of_birth", "nhs_number")} == {
        "given_name": "Amira",
        "family_name": "OKAFOR",
        "date_of_birth": "2019-04-03",
        "nhs_number": "9434765919",
    }
    assert child["full_name"] == "OKAFOR, Amira"
    assert child["unborn"] is False and child["expected_date"] is None
    assert referral["immediate_risk"] is True and referral["parents_aware"] is False
    assert referral["consent"] == "Not sought - would place the child at risk"
    assert "immediate risk" not in referral["missing"] and "address" in referral["missing"]


# Wordings not in the corpus, checked after it was built: how the matcher does on labels it
# was not tuned on.
MORE_WORDINGS = {
    "Childs Name": "child_name",
    "Name of Child/Young Person": "child_name",
    "Child\u2019s D.O.B": "date_of_birth",
    "Home Address (inc. postcode)": "address",
    "Young Person's Surname": "family_name",
    "NHS No:": "nhs_number",
    "Referring Agency": "referrer_agency",
    "Referrer Contact Number": "referrer_phone",
    "Referrer's e-mail address": "referrer_email",
    "Your role / job title": "referrer_role",
    "Parent/Carer Name(s)": "household",
    "Mother's DOB": "ignored",
    "Father's address": "ignored",
    "Name of School": "school",
    "GP Name/Surgery": "gp",
    "Has parental consent been obtained?": "consent",
    "Is the child/young person aware of the referral?": "child_aware",
    "Immediate risk? Y/N": "immediate_risk",
    "Do you believe the child is at immediate risk of significant harm?": "immediate_risk",
    "Is the child in immediate danger?": "immediate_risk",
    "Reason for Referral / Concerns": "concern",
    "Brief description of concerns": "concern",
    "What are your concerns?": "concern",
    "Category of abuse": "categories",
    "Child 2 D.O.B.": "date_of_birth",
    "EDD (if unborn)": "expected_date",
    "Postcode of child's address": "postcode",
    "Telephone number of referrer": "referrer_phone",
    "Name of person making referral": "referrer_name",
    "Referrer's Designation": "referrer_role",
    "Has the child been told about this referral?": "child_aware",
    "Parents/carers informed?": "parents_aware",
    "Family Name / Surname": "family_name",
    "Child's date of birth (dd/mm/yyyy)": "date_of_birth",
}


@pytest.mark.parametrize(("label", "key"), MORE_WORDINGS.items())
def test_wordings_beyond_the_corpus(label: str, key: str) -> None:
    assert match_label(label).key == key
