"""Patient-identifier detector: recall floor on the labelled set, one case per kind, clean clinical prose, HTML."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from markupsafe import Markup

from community.platform.safety import Finding, find_identifiers, highlight
from tests.safety.test_crisis_data import load_phi_frozen

DATA = Path(__file__).resolve().parents[1] / "data" / "phi.jsonl"
KINDS = {"mrn", "dob", "date", "phone", "email", "address", "ssn", "age_over_89", "room_bed", "name_title"}


def load() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_data_set_is_well_formed():
    rows = load()
    assert len(rows) >= 150
    assert len({row["text"] for row in rows}) == len(rows)
    assert all(set(row["kinds"]) <= KINDS for row in rows)
    assert sum(1 for row in rows if not row["kinds"]) >= 40  # clean sentences, for precision
    assert {kind for row in rows for kind in row["kinds"]} == KINDS


def test_recall_floor_and_precision_report():
    """An item is recalled when every expected kind is found; precision counts each found kind."""
    expected_items = recalled = found = correct = 0
    missed, extra = [], []
    for row in load():
        kinds = [f.kind for f in find_identifiers(row["text"])]
        found += len(kinds)
        correct += sum(1 for kind in kinds if kind in row["kinds"])
        if set(kinds) - set(row["kinds"]):
            extra.append(row["text"])
        if row["kinds"]:
            expected_items += 1
            if set(row["kinds"]) <= set(kinds):
                recalled += 1
            else:
                missed.append(row["text"])
    recall, precision = recalled / expected_items, correct / found
    print(f"\nphi recall={recall:.3f} precision={precision:.3f}")
    print("missed:", *missed, sep="\n  ")
    print("unexpected:", *extra, sep="\n  ")
    assert recall >= 0.90
    assert precision >= 0.80  # reported above; the floor only catches a regression


@pytest.mark.parametrize(("text", "kind", "span"), [
    ("Pulled up MRN 12345678 to check.", "mrn", "12345678"),
    ("His MR# 0045-221 was on the sticker.", "mrn", "0045-221"),
    ("Patient 88123456 was readmitted overnight.", "mrn", "88123456"),
    ("DOB 3/4/1958, presenting with chest pain.", "dob", "3/4/1958"),
    ("She was born on March 4, 1958 in Ohio.", "dob", "March 4, 1958"),
    ("The patient was admitted 03/14/2024 with sepsis.", "date", "03/14/2024"),
    ("Her daughter's cell is (617) 555-0199.", "phone", "(617) 555-0199"),
    ("Call his wife at 312-555-0147.", "phone", "312-555-0147"),
    ("He emailed me from jsmith1952@gmail.com about his scans.", "email", "jsmith1952@gmail.com"),
    ("She lives at 123 Oak Street near the clinic.", "address", "123 Oak Street"),
    ("The ambulance went to 45 W. Elm Ave. twice.", "address", "45 W. Elm Ave."),
    ("Registration had her SSN as 123-45-6789.", "ssn", "123-45-6789"),
    ("I cared for a 92-year-old with pneumonia.", "age_over_89", "92-year-old"),
    ("A man aged 94 came in after a fall.", "age_over_89", "aged 94"),
    ("96 yo F with delirium.", "age_over_89", "96 yo"),
    ("The patient in room 412 pulled out her IV.", "room_bed", "room 412"),
    ("Bed 4 needs a new line.", "room_bed", "Bed 4"),
    ("Can you check on rm 12B?", "room_bed", "rm 12B"),
    ("Mr. Alvarez in bed 4 is septic.", "name_title", "Mr. Alvarez"),
    ("Mrs. Chen's biopsy came back positive.", "name_title", "Mrs. Chen"),
])
def test_each_kind(text, kind, span):
    findings = find_identifiers(text)
    assert (kind, span) in [(f.kind, f.text) for f in findings]


@pytest.mark.parametrize("text", [
    "I'm a PGY-2 on nights.",
    "I admitted a 45-year-old with DKA.",
    "After a 24-hour shift I saw 3 patients in clinic.",
    "Dr. Singer's research on compassion is fascinating.",
    "In 2023 we changed the schedule.",
    "I got paged at 3 a.m. about a potassium.",
    "If you are struggling, call or text 988.",
    "We started her on 40 mg of furosemide.",
    "Her pain was 7/10 on arrival.",
    "BP 142/88, HR 96.",
    "The wellness retreat is on March 4, 2024 at noon.",
    "Mr. Rogers was my hero growing up.",
    "Grand rounds will be in room 301 this week.",
    "I went to bed 4 hours later than planned.",
])
def test_ordinary_clinical_writing_is_clean(text):
    assert find_identifiers(text) == []


def test_findings_are_sorted_non_overlapping_and_labelled():
    text = "Mr. Haddad, MRN 20394857, DOB 2/14/1950, in room 512; his son is at 617-555-0111."
    findings = find_identifiers(text)
    assert [f.kind for f in findings] == ["name_title", "mrn", "dob", "room_bed", "phone"]
    for before, after in zip(findings, findings[1:], strict=False):
        assert before.end <= after.start
    for f in findings:
        assert isinstance(f, Finding) and text[f.start:f.end] == f.text and f.label


def test_highlight_escapes_html_and_marks_findings():
    text = "<script>alert(1)</script> Mr. Alvarez in bed 4 & stable"
    marked = highlight(text, find_identifiers(text))
    assert isinstance(marked, Markup)
    assert "<script>" not in marked and "&lt;script&gt;" in marked and "&amp; stable" in marked
    assert '<mark class="phi" data-kind="name_title">Mr. Alvarez</mark>' in marked
    assert '<mark class="phi" data-kind="room_bed">bed 4</mark>' in marked


def test_highlight_escapes_inside_a_finding_and_without_findings():
    text = 'Email "x<y"@evil.com'
    assert highlight(text, []) == Markup("Email &#34;x&lt;y&#34;@evil.com")
    fake = Finding("email", 6, len(text), text[6:], "Looks like an email address")
    assert "&lt;" in highlight(text, [fake]) and "<y" not in highlight(text, [fake])


@pytest.mark.parametrize("text", [
    "1 " * 5000,
    "bed 1, " * 1500,
    "Mr. Smith " * 1000,
    "12/12/2012 admitted " * 500,
    "123 " * 3000 + "Street",
    "born " * 2000 + "1920",
    "a" * 5000 + "@" + "b" * 5000,
])
def test_pathological_input_stays_fast(text):
    started = time.perf_counter()
    findings = find_identifiers(text)
    assert time.perf_counter() - started < 0.5
    assert all(a.end <= b.start for a, b in zip(findings, findings[1:], strict=False))


def test_identifier_recall_on_the_frozen_split():
    """Measured once, after the untitled-name and age-with-place detectors were written: 39 of 40 items, and
    40 of 42 findings correct."""
    rows = load_phi_frozen()
    expected = recalled = found = correct = 0
    for row in rows:
        kinds = [f.kind for f in find_identifiers(row["text"])]
        found += len(kinds)
        correct += sum(1 for kind in kinds if kind in row["kinds"])
        if row["kinds"]:
            expected += 1
            recalled += set(row["kinds"]) <= set(kinds)
    assert recalled / expected >= 0.95
    assert correct / found >= 40 / 42


@pytest.mark.parametrize(("text", "name"), [
    ("Patient John Smith in 4B keeps asking for his daughter.", "John Smith"),
    ("we admitted Maria Gonzalez, 71, from the shelter", "Maria Gonzalez"),
    ("Rounded on Dolores Whitaker this morning, her sodium is up.", "Dolores Whitaker"),
])
def test_names_without_a_title_near_clinical_context(text, name):
    assert ("name", name) in [(f.kind, f.text) for f in find_identifiers(text)]


@pytest.mark.parametrize("text", [
    "my co-resident, Dr. Okoye, covered my pager so I could rest",
    "Had dinner with Sarah Mitchell from my intern class, it was lovely.",
    "Emily Park and Jonah Levi organised the resident book club.",
])
def test_colleagues_in_non_clinical_context_pass(text):
    assert find_identifiers(text) == []


@pytest.mark.parametrize(("text", "found"), [
    ("A 67-year-old from Millbrook came in septic on Sunday.", "67-year-old from Millbrook"),
    ("A 45 yo man on 4 North with new heart failure.", "45 yo man on 4 North"),
])
def test_ages_with_towns_or_units(text, found):
    assert ("age_place", found) in [(f.kind, f.text) for f in find_identifiers(text)]


def test_an_age_alone_or_a_town_alone_passes():
    assert find_identifiers("I'm 34 and we're moving to Cedar Falls after residency.") == []
