"""Likely patient identifiers in member posts (HIPAA Safe Harbor categories), with an HTML highlighter."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Finding:
    kind: str  # mrn | dob | date | phone | email | address | ssn | age_over_89 | room_bed | name_title
    start: int
    end: int
    text: str
    label: str


LABELS: dict[str, str] = {
    "mrn": "Looks like a medical record number",
    "dob": "Looks like a date of birth",
    "date": "Looks like a date tied to a patient's care",
    "phone": "Looks like a phone number",
    "email": "Looks like an email address",
    "address": "Looks like a street address",
    "ssn": "Looks like a Social Security number",
    "age_over_89": "Ages over 89 can identify a patient",
    "room_bed": "Looks like a room or bed number",
    "name_title": "Looks like a patient's name",
}

# When two findings overlap, the more specific kind wins (a DOB is also a date; an SSN is also digits).
_PRIORITY = {"ssn": 0, "dob": 1, "mrn": 2, "email": 3, "phone": 4, "age_over_89": 5, "date": 6, "address": 7,
             "room_bed": 8, "name_title": 9}

# How far (characters, each side) to look for patient context. A sentence is the natural unit, but "Mr." and
# "Dr." make sentence splitting unreliable, so a window is used instead.
_WINDOW = 90

# --- context ------------------------------------------------------------------------------------------------

# Words that place a number, date or name in a patient's care. Short upper-case acronyms are case-sensitive so
# that "or", "er", "ed" in ordinary prose do not count.
_PATIENT_CONTEXT = re.compile(
    r"\b(?i:patients?|pts?|chart(?:ed|s)?|MRN|admit(?:ted|ting|s)?|admission|discharg(?:e|ed|ing)|beds?|rooms?|"
    r"rm|biops(?:y|ied)|scans?|labs?|surger(?:y|ies)|surgical|post-?op|pre-?op|diagnos(?:is|ed)|dx|presented|"
    r"presenting|seen|visits?|clinic|ward|coded|intubat(?:ed|ion)|extubated|meds|medications?|prescribed|"
    r"consult(?:ed|s)?|wife|husband|daughter|son|mother|father|niece|nephew|grandson|granddaughter|caregiver|"
    r"hospice|vitals|transfus\w*|dialysis|chemo(?:therapy)?|radiation|tumou?r|cancer|stroke|"
    r"sepsis|septic|fracture|delivered|delivery|labor|pregnan\w*|bloodwork|cultures?|echo|cath|stent|catheter|"
    r"foley|ventilator|goals of care|prognosis|hospitali[sz](?:ed|ation)|readmitted|transferred|expired|died|"
    r"death|passed away|autopsy|procedure|operated|operation|appointment|appt|encounter|follow-?up|f/u|x-?ray|"
    r"mammogram|colonoscopy|pathology|overdose|ambulance|EMS|triage|resus(?:citation)?|telemetry|tele|"
    r"bedside|nursing home|SNF|rehab|family|vent|code|DOS|fell|falls?|seizures?|STEMI|CHF|COPD|COVID|"
    r"pneumonia|DKA|UTI|ESRD|CKD|HIV|HCV|fever|infection|wound|ulcer|amputation|insulin|dementia|delirium)\b"
    r"|\b(?:ED|ER|ICU|NICU|PICU|CCU|MICU|SICU|PACU|OR|IV|CT|MRI|EKG|ECG|DNR|DNI|CPR|GCS|BP|HR|SpO2)\b"
)

# Context that makes a room number a meeting room rather than a patient's room.
_MEETING_CONTEXT = re.compile(
    r"\b(?:lecture|conference|grand rounds|meeting|seminar|class|talk|workshop|journal club|session|didactics?|"
    r"orientation|retreat|lunch|noon|simulation|sim lab|exam|boards|interview|hall|building|floor plan)\b",
    re.IGNORECASE,
)

# Numbers labelled as something other than a patient's record: provider and licence numbers, pagers, money.
_NOT_PATIENT_NUMBER = re.compile(
    r"(?:\b(?:NPI|DEA|license|licence|pager|ext|extension|zip|grant|award|invoice|order|ISBN|PMID|DOI|"
    r"version|v|ticket|badge|employee|provider)\b[\s#:.-]*|\$)$",
    re.IGNORECASE,
)


def _has_context(text: str, start: int, end: int, pattern: re.Pattern[str] = _PATIENT_CONTEXT) -> bool:
    """True when the pattern occurs within the window around [start, end), outside the match itself."""
    lo, hi = max(0, start - _WINDOW), min(len(text), end + _WINDOW)
    return bool(pattern.search(text, lo, start) or pattern.search(text, end, hi))


# --- dates --------------------------------------------------------------------------------------------------

# Month names are case-sensitive (capitalised) so that "may" and "march" as verbs do not start a date.
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
          r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"
_NUMERIC_DATE = r"(?:\d{1,2}[/-]\d{1,2}[/-](?:\d{4}|\d{2})|\d{1,2}\.\d{1,2}\.\d{4}|(?:19|20)\d{2}-[01]\d-[0-3]\d)"
_TEXT_DATE = (rf"(?:{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?|{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?"
              rf"|{_MONTH}\s+{_YEAR})")
_FULL_DATE = re.compile(rf"(?<![\w/.-])(?:{_NUMERIC_DATE}|{_TEXT_DATE})(?![\w/]|\.\d)")
# A month/day without a year ("3/14") is only a date right after a word that introduces one; otherwise it could
# be a score ("pain 7/10"), a fraction ("3/4 of residents") or a ratio.
_SHORT_DATE = re.compile(
    r"\b(?i:on|since|from|until|till|til|through|thru|admitted|discharged|seen|dated|DOS|died|expired|delivered|"
    r"born|DOB)[\s:]+((?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01]))(?![\d/])"
)
_DOB_CUE = re.compile(r"(?i:\bDOB|\bD\.O\.B\.?|\bdate of birth|\bbirth ?date|\bbirthday|\bborn(?:\s+on)?|\bb\.)"
                      r"[\s:#-]*(?:is|was|of|on)?\s*$")
_TO_BED = re.compile(r"\bto\s+$", re.IGNORECASE)
_BORN_YEAR = re.compile(r"\b(?i:born)\s+(?:in\s+)?((?:18|19)\d{2})\b")


# --- other identifiers --------------------------------------------------------------------------------------

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
_PHONE = re.compile(
    r"(?<![\w/-])(?:\+?1[\s.-]?)?(?:\((\d{3})\)\s?|(\d{3})[\s.-])\d{3}[\s.-]\d{4}(?![\w/-])"
    r"|(?<![\w/-])\+?1?(\d{3})\d{7}(?=\s*(?i:ext|x\d))"
)
_LOCAL_PHONE = re.compile(r"\b(?i:call|phone|cell|tel|text|number|mobile|landline|reach (?:her|him|them) at)"
                          r"[\s:#.]*(?:is\s+|at\s+)?(\d{3}-\d{4}|\d{10})\b")
_TOLL_FREE = {"800", "888", "877", "866", "855", "844", "833"}
_SSN = re.compile(
    r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])"
    r"|\b(?i:SSN|SS#|social security(?: number| no\.?| #)?)(?:\s+(?:ending in|ends in|is|was|of|last "
    r"(?:4|four)))?[\s:#]*(\d{9}|\d{3}[ -]\d{2}[ -]\d{4}|\d{4})\b"
)
_MRN = re.compile(
    r"(?:\b(?:MRN|MR#|MR ?#|MR\s+no\.?|FIN|CSN|(?i:mrn|med(?:ical)?\s+rec(?:ord)?(?:\s+(?:number|no\.?|#)|#)?|"
    r"record\s+(?:number|no\.?|#)|chart\s+(?:number|no\.?|#)|patient\s+(?:ID|number|no\.?|#)|pt\s+(?:ID|#)|"
    r"account\s+(?:number|no\.?|#)|acct\.?\s*#?|encounter\s+(?:number|no\.?|#|ID)|accession\s+(?:number|no\.?|#)|"
    r"hospital\s+(?:number|no\.?|#|ID)))|(?<=\s)#)"
    r"[\s:#]*(?:(?i:is|was|of)\s+)?([A-Z]{0,3}-?\d[\d-]{2,14}\d)\b"
)
_BARE_NUMBER = re.compile(r"(?<![\w./:$#,-])\d{7,10}(?![\w./%-]|,\d)")
_AGE = re.compile(
    r"\b(9\d|1[01]\d)(?:\s*|-)(?i:years?|yrs?|y)(?:\s*|-)(?i:old|o\b)"
    r"|\b(9\d|1[01]\d)\s*(?i:yo|y/o|y\.o\.?|yoM|yoF|yo[mf])\b"
    r"|\b(9\d|1[01]\d)\s+(?i:years?\s+of\s+age)\b"
    r"|\b(?i:aged?|age:|age\s+of|at\s+age|turned|turns|turning)\s+(9\d|1[01]\d)\b(?![.,]\d)"
    r"|\b(?i:in\s+(?:her|his|their)\s+(?:late\s+|early\s+|mid[- ])?(?:90s|nineties|'90s)|nonagenarian|"
    r"centenarian|supercentenarian)\b"
)
_ROOM_BED = re.compile(
    r"\b(?i:room|rm\.?|bed|bay|cubicle|stretcher|pod|trauma\s+bay|resus|isolation\s+room|ward)\s*#?\s*"
    r"(\d{1,4}[A-Za-z]?|[A-Z]\d{1,3})\b"
    r"(?!\s*(?i:hours?|hrs?|minutes?|mins?|days?|weeks?|nights?|am|pm|a\.m|p\.m|o'clock|times|patients?|people|"
    r"residents?|x\b|-year))"
)
_STREET_SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|Terrace|"
                  r"Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Pike|Alley|Row|Loop)\b\.?")
_STREET_WORD = r"(?:(?!(?:AM|PM|A\.M|P\.M|Dr|Mr|Mrs|Ms)\b)[A-Z][a-zA-Z'-]*\.?|\d{1,3}(?:st|nd|rd|th))"
_US_STATE = (r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|"
             r"NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC)")
_ADDRESS = re.compile(
    rf"\b\d{{1,6}}(?:-\d{{1,4}})?\s+(?:(?:[NSEW]\.?|North|South|East|West)\s+)?(?:{_STREET_WORD}\s+){{1,3}}"
    rf"{_STREET_SUFFIX}(?:,?\s+(?:Apt|Apartment|Unit|Suite|Ste|#)\.?\s*\w+)?"
    rf"|\b(?i:P\.?\s?O\.?\s+Box)\s+\d+"
    rf"|\b(?i:lives|living|resides|residing|home|house)\s+(?i:on|at|off)\s+((?:{_STREET_WORD}\s+){{1,3}}"
    rf"{_STREET_SUFFIX})"
    rf"|(?<=,\s){_US_STATE}\s+\d{{5}}(?:-\d{{4}})?\b"
)
_NAME = r"[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?"
_TITLE_NAME = re.compile(rf"\b(?:Mr|Mrs|Ms|Mx|Miss|Mister)\.?\s+{_NAME}(?:\s+{_NAME})?")
_NAMED_PATIENT = re.compile(rf"\b(?i:patient|pt)\.?\s+(?i:named|called)\s+({_NAME}(?:\s+{_NAME})?)")
# Right after a titled name, a possessive followed by a clinical noun is context enough: "Mrs. Chen's biopsy".
_POSSESSIVE_CLINICAL = re.compile(r"'s?\s+(?:\w+\s+)?(?:biopsy|scan|labs?|results?|chart|meds|wound|tumou?r|"
                                  r"surgery|diagnosis|prognosis|family|daughter|son|wife|husband|room|bed|code|"
                                  r"admission|discharge|case|pain|x-?ray|MRI|CT|path|cancer|dementia|delirium)\b",
                                  re.IGNORECASE)


# --- finders ------------------------------------------------------------------------------------------------

def _finding(kind: str, text: str, start: int, end: int) -> Finding:
    return Finding(kind, start, end, text[start:end], LABELS[kind])


def _find_emails(text: str) -> list[Finding]:
    if "@" not in text:
        return []
    return [_finding("email", text, m.start(), m.end()) for m in _EMAIL.finditer(text)]


def _find_phones(text: str) -> list[Finding]:
    out = []
    for m in _PHONE.finditer(text):
        area = m.group(1) or m.group(2) or m.group(3)
        if area in _TOLL_FREE:  # hotlines and organisations, not people
            continue
        out.append(_finding("phone", text, m.start(), m.end()))
    out += [_finding("phone", text, m.start(1), m.end(1)) for m in _LOCAL_PHONE.finditer(text)]
    return out


def _find_ssns(text: str) -> list[Finding]:
    out = []
    for m in _SSN.finditer(text):
        start, end = (m.start(1), m.end(1)) if m.group(1) else (m.start(), m.end())
        out.append(_finding("ssn", text, start, end))
    return out


def _find_mrns(text: str) -> list[Finding]:
    out = []
    for m in _MRN.finditer(text):
        if m.group().lstrip().startswith("#") and not _has_context(text, m.start(), m.end()):
            continue  # a bare "#1234567" needs a patient nearby to be a record number
        out.append(_finding("mrn", text, m.start(1), m.end(1)))
    for m in _BARE_NUMBER.finditer(text):
        if _NOT_PATIENT_NUMBER.search(text, max(0, m.start() - 20), m.start()):
            continue
        if _has_context(text, m.start(), m.end()):
            out.append(_finding("mrn", text, m.start(), m.end()))
    return out


def _find_dates(text: str) -> list[Finding]:
    out = []
    for m in _FULL_DATE.finditer(text):
        out += _classify_date(text, m.start(), m.end())
    for m in _SHORT_DATE.finditer(text):
        out += _classify_date(text, m.start(1), m.end(1))
    current = date.today().year
    for m in _BORN_YEAR.finditer(text):
        # A birth year alone is allowed by Safe Harbor, unless it makes the person older than 89.
        if current - int(m.group(1)) > 89:
            out.append(_finding("age_over_89", text, m.start(), m.end()))
    return out


def _classify_date(text: str, start: int, end: int) -> list[Finding]:
    """A date after a birth cue is a DOB; next to patient context it is a care date; otherwise it is left alone."""
    if _DOB_CUE.search(text, max(0, start - 25), start):
        return [_finding("dob", text, start, end)]
    if _has_context(text, start, end):
        return [_finding("date", text, start, end)]
    return []


def _find_ages(text: str) -> list[Finding]:
    return [_finding("age_over_89", text, m.start(), m.end()) for m in _AGE.finditer(text)]


def _find_rooms(text: str) -> list[Finding]:
    out = []
    for m in _ROOM_BED.finditer(text):
        word = m.group().split()[0].lower() if m.group().split() else ""
        is_room = word.startswith(("room", "rm"))
        if is_room and _has_context(text, m.start(), m.end(), _MEETING_CONTEXT) and not _has_context(
                text, m.start(), m.end()):
            continue  # "lecture in room 301"
        if word.startswith("bed") and _TO_BED.search(text, max(0, m.start() - 4), m.start()):
            continue  # "put the baby to bed 3 times"
        out.append(_finding("room_bed", text, m.start(), m.end()))
    return out


def _find_addresses(text: str) -> list[Finding]:
    out = []
    for m in _ADDRESS.finditer(text):
        start, end = (m.start(1), m.end(1)) if m.group(1) else (m.start(), m.end())
        out.append(_finding("address", text, start, end))
    return out


def _find_names(text: str) -> list[Finding]:
    out = []
    for m in _TITLE_NAME.finditer(text):
        if _POSSESSIVE_CLINICAL.match(text, m.end()) or _has_context(text, m.start(), m.end()):
            out.append(_finding("name_title", text, m.start(), m.end()))
    out += [_finding("name_title", text, m.start(1), m.end(1)) for m in _NAMED_PATIENT.finditer(text)]
    return out


_DIGIT = re.compile(r"\d")
_AGE_WORDS = re.compile(r"(?i:enarian|ninet)")
_TITLE_HINT = re.compile(r"\b(?:Mr|Mrs|Ms|Mx|Miss|Mister)\b|\b(?i:named|called)\b")


def find_identifiers(text: str) -> list[Finding]:
    """All likely patient identifiers in text, sorted by start, overlaps resolved by specificity then length."""
    found = _find_emails(text)
    if _DIGIT.search(text):
        for finder in (_find_phones, _find_ssns, _find_mrns, _find_dates, _find_rooms, _find_addresses):
            found += finder(text)
    if _DIGIT.search(text) or _AGE_WORDS.search(text):
        found += _find_ages(text)
    if _TITLE_HINT.search(text):
        found += _find_names(text)
    return _resolve(found)


def _resolve(found: list[Finding]) -> list[Finding]:
    """Keeps non-overlapping findings, preferring specific kinds, then longer spans, then earlier ones."""
    ranked = sorted(found, key=lambda f: (_PRIORITY[f.kind], -(f.end - f.start), f.start))
    kept: list[Finding] = []
    for f in ranked:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


def highlight(text: str, findings: Iterable[Finding]) -> Markup:
    """HTML-escaped text with each finding wrapped in <mark class="phi" data-kind="...">."""
    parts: list[str] = []
    cursor = 0
    for f in sorted(findings, key=lambda f: f.start):
        if f.start < cursor:  # overlapping input: skip rather than produce broken markup
            continue
        parts.append(escape(text[cursor:f.start]))
        parts.append(Markup('<mark class="phi" data-kind="{}">{}</mark>').format(f.kind, text[f.start:f.end]))
        cursor = f.end
    parts.append(escape(text[cursor:]))
    return Markup("").join(parts)
