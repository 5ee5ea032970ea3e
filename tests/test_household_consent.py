"""The pure readings behind sharing: the household's adults from a form, and consent."""

from __future__ import annotations

import pytest

from gateway.domain.consent import status_from_form, status_from_text
from gateway.domain.household import adults_from_text, household


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Given by mother", "given"),
        ("Yes - verbal consent from mum", "given"),
        ("Consent obtained", "given"),
        ("Refused", "refused"),
        ("Consent refused by father", "refused"),
        ("Mother declined", "refused"),
        ("Parents do not consent", "refused"),
        ("Not given", "refused"),
        ("No", "refused"),
        ("Not sought, police notification", "not-sought"),
        ("Not required for a police notification", "not-sought"),
        ("No consent sought", "not-sought"),
        ("Not yet sought as it may increase risk", "not-sought"),
        ("N/A", "not-sought"),
        ("Unknown", None),
        ("", None),
        (None, None),
    ],
)
def test_the_forms_consent_answer(text: str | None, expected: str | None) -> None:
    assert status_from_text(text) == expected


def test_consent_from_the_whole_form() -> None:
    assert status_from_form({"consent": "Given by mother", "parents_aware": True}) == "given"
    # Parents who do not know of the referral cannot have consented to it.
    assert status_from_form({"consent": None, "parents_aware": False}) == "not-sought"
    assert status_from_form({}) == "unknown"


def _names(text: str) -> list[tuple[str, str | None, str | None]]:
    return [(a["name"], a["relationship"], a["date_of_birth"]) for a in adults_from_text(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mother Jo Okafor (holds PR), father Dan Okafor (holds PR)",
            [("Jo Okafor", "mother", None), ("Dan Okafor", "father", None)],
        ),
        (
            "Mother Kim Brown (pregnant), partner Lee Green",
            [("Kim Brown", "mother", None), ("Lee Green", "partner", None)],
        ),
        (
            "Jo Okafor (mother, DOB 02/01/1988); Dan Okafor (father, 14.5.1985)",
            [("Jo Okafor", "mother", "1988-01-02"), ("Dan Okafor", "father", "1985-05-14")],
        ),
        (
            "Mother: Jo Okafor, 12/03/1990\nFather: Dan Okafor",
            [("Jo Okafor", "mother", "1990-03-12"), ("Dan Okafor", "father", None)],
        ),
        (
            "Mr Dan Okafor, alleged perpetrator, born 3 April 1980",
            [("Dan Okafor", None, "1980-04-03")],
        ),
        ("Zoë Brontë-Smith (grandmother)", [("Zoë Brontë-Smith", "grandmother", None)]),
        ("Mother Ama", [("Ama", "mother", None)]),
        ("Lives with mum and her partner", []),
        ("Father: unknown", []),
    ],
)
def test_adults_named_in_a_household_box(
    text: str, expected: list[tuple[str, str | None, str | None]]
) -> None:
    assert _names(text) == expected


def test_narrative_in_the_household_box_never_becomes_a_detail() -> None:
    adults = adults_from_text("Mother Jo Okafor who Drinks Heavily Most Nights and hits him")
    assert [a["name"] for a in adults] == ["Jo Okafor"]
    assert "Drinks" not in str(adults) and "hits" not in str(adults)


def test_the_alleged_person_is_marked() -> None:
    (adult,) = adults_from_text("Mr Dan Okafor, alleged perpetrator, born 3 April 1980")
    assert adult["alleged"] is True


def test_household_merges_labelled_adults_and_the_box_and_gives_the_address() -> None:
    found = household(
        {
            "household": "Mother Jo Okafor, father Dan Okafor",
            "adults": [
                {"name": "Dan  Okafor", "relationship": "Father", "date_of_birth": "1985-05-14"},
                {"name": "Lee Green", "relationship": None, "alleged": True},
            ],
            "children": [{"address": "12 Mare Street, London", "postcode": "E8 1AA"}],
        }
    )
    assert found["address"] == "12 Mare Street, London, E8 1AA"
    by_name = {a["name"]: a for a in found["adults"]}
    assert set(by_name) == {"Dan Okafor", "Jo Okafor", "Lee Green"}
    assert by_name["Dan Okafor"]["date_of_birth"] == "1985-05-14"
    assert by_name["Dan Okafor"]["relationship"] == "father"
    assert by_name["Lee Green"]["alleged"] is True
