"""Likely patient identifiers in member posts (HIPAA Safe Harbor categories), with an HTML highlighter."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Finding:
    kind: str  # mrn | dob | date | phone | email | address | ssn | age_over_89 | room_bed | name_title | name
    # | age_place
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
    "name": "Looks like a patient's name",
    "age_place": "An age with a town or unit can identify a patient",
}

# Identifiers that identify on their own: they cannot be published on the writer's word that they are not
# identifiers. The writer edits them out, or the piece waits, hidden, for a moderator (screening.py).
STRONG = frozenset({"mrn", "ssn", "phone", "email", "dob"})

# When two findings overlap, the more specific kind wins (a DOB is also a date; an SSN is also digits).
_PRIORITY = {"ssn": 0, "dob": 1, "mrn": 2, "email": 3, "phone": 4, "age_over_89": 5, "date": 6, "address": 7,
             "room_bed": 8, "name_title": 9, "name": 10,
             "age_place": 11}

# How far (characters, each side) to look for patient context. A sentence would be the natural unit, but "Mr."
# and "Dr." make sentence splitting unreliable, so a window is used instead.
_WINDOW = 90

# Performance note: `re` can skip ahead quickly only when a pattern starts with a plain character or class, so
# the patterns below start with the digit (or "(", or a month name) and check what comes before in Python or
# in a lookbehind placed after the first character.

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


def _has_context(text: str, start: int, end: int, pattern: re.Pattern[str] = _PATIENT_CONTEXT) -> bool:
    """True when the pattern occurs within the window around [start, end), outside the match itself."""
    lo, hi = max(0, start - _WINDOW), min(len(text), end + _WINDOW)
    return bool(pattern.search(text, lo, start) or pattern.search(text, end, hi))


def _glued_before(text: str, start: int, chars: str = "") -> bool:
    """True when the character before start is a letter, digit or one of chars (the match is part of a token)."""
    if start == 0:
        return False
    before = text[start - 1]
    return before.isalnum() or before == "_" or before in chars


def _finding(kind: str, text: str, start: int, end: int) -> Finding:
    return Finding(kind, start, end, text[start:end], LABELS[kind])


# --- dates --------------------------------------------------------------------------------------------------

# Month names are case-sensitive (capitalised) so that "may" and "march" as verbs do not start a date.
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
          r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"
_DATE_END = r"(?![\w/]|\.\d)"
_NUMERIC_DATE = re.compile(r"\d\d?(?:[/-]\d{1,2}[/-](?:\d{4}|\d{2})|\.\d{1,2}\.\d{4})" + _DATE_END)
_ISO_DATE = re.compile(r"[12]\d{3}-[01]\d-[0-3]\d" + _DATE_END)
_MONTH_FIRST_DATE = re.compile(rf"{_MONTH}\s+(?:{_DAY}(?:,?\s+{_YEAR})?|{_YEAR})" + _DATE_END)
_DAY_FIRST_DATE = re.compile(rf"\d\d?(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?" + _DATE_END)
# A month/day without a year ("3/14") is only a date right after a word that introduces one; otherwise it could
# be a score ("pain 7/10"), a fraction ("3/4 of residents") or a ratio.
_SHORT_DATE = re.compile(r"\d\d?/\d\d?(?![\d/])")
_SHORT_DATE_CUE = re.compile(r"\b(?i:on|since|from|until|till|til|through|thru|admitted|discharged|seen|dated|DOS|"
                             r"died|expired|delivered|born|DOB)[\s:]+$")
_DOB_CUE = re.compile(r"(?i:\bDOB|\bD\.O\.B\.?|\bdate of birth|\bbirth ?date|\bbirthday|\bborn(?:\s+on)?|\bb\.)"
                      r"[\s:#-]*(?:is|was|of|on)?\s*$")
# "born in 1926", "born in the spring of 1931": a year within a few words of "born".
_BORN_YEAR = re.compile(r"\b(?i:born)\s+(?:[A-Za-z]+\s+){0,5}?((?:18|19)\d{2})\b")


def _dates_at(text: str, start: int) -> list[Finding]:
    """Dates that begin with the number at start."""
    if _glued_before(text, start, "/.-"):
        return []
    for pattern in (_NUMERIC_DATE, _ISO_DATE, _DAY_FIRST_DATE):
        m = pattern.match(text, start)
        if m:
            return _classify_date(text, start, m.end())
    m = _SHORT_DATE.match(text, start)
    if m and _SHORT_DATE_CUE.search(text, max(0, start - 20), start):
        return _classify_date(text, start, m.end())
    return []


def _month_first_dates(text: str) -> list[Finding]:
    out: list[Finding] = []
    for m in _MONTH_FIRST_DATE.finditer(text):
        if not _glued_before(text, m.start()):
            out += _classify_date(text, m.start(), m.end())
    return out


def _classify_date(text: str, start: int, end: int) -> list[Finding]:
    """A date after a birth cue is a DOB; next to patient context it is a care date; otherwise it is left alone."""
    if _DOB_CUE.search(text, max(0, start - 25), start):
        return [_finding("dob", text, start, end)]
    if _has_context(text, start, end):
        return [_finding("date", text, start, end)]
    return []


# --- ages ---------------------------------------------------------------------------------------------------

_AGE_NUMBER = re.compile(r"(?:9\d|1[01]\d)(?!\d|[.,]\d)")
_AGE_AFTER = re.compile(r"(?:\s*|-)(?i:years?|yrs?|y)(?:\s*|-)(?i:old|o\b)|\s*(?i:yo|y/o|y\.o\.?|yo[mf])\b"
                        r"|\s+(?i:years?\s+of\s+age)\b")
_AGE_BEFORE = re.compile(r"\b(?i:aged?|age:|age\s+of|at\s+age|turned|turns|turning)\s+$")
_SPELLED_OVER_89 = r"(?:ninety|a\s+hundred|one\s+hundred)(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?"
# Spelled-out ages need a clear age frame, since "ninety minutes" and "a hundred patients" are common.
_AGE_SPELLED = re.compile(
    rf"(?i:\b(?:he|she|they)(?:'s|\s+is|\s+was|\s+are|\s+were)|\bturned|\bturns|\baged?|\bage\s+of|\bat\s+age)"
    rf"\s+((?i:{_SPELLED_OVER_89}))\b(?!\s+(?i:minutes|percent|patients|times|days|hours|of))"
    rf"|\b((?i:{_SPELLED_OVER_89}))(?:\s+|-)(?i:years?)(?:\s+|-)(?i:old)\b"
)
_AGE_WORDS = re.compile(r"\b(?i:in\s+(?:her|his|their)\s+(?:late\s+|early\s+|mid[- ])?(?:90s|nineties|'90s)|"
                        r"nonagenarian|centenarian|supercentenarian)\b")


def _age_at(text: str, start: int) -> list[Finding]:
    """An age over 89 written with the number at start: "92-year-old", "96 yo", "aged 94"."""
    m = _AGE_NUMBER.match(text, start)
    if not m or _glued_before(text, start, "$.,/"):
        return []
    after = _AGE_AFTER.match(text, m.end())
    if after:
        return [_finding("age_over_89", text, start, after.end())]
    before = _AGE_BEFORE.search(text, max(0, start - 16), start)
    return [_finding("age_over_89", text, before.start(), m.end())] if before else []


def _ages_in_words(text: str, lowered: str) -> list[Finding]:
    """Ages without a number next to them: "in her nineties", "a centenarian", "born in 1931"."""
    out: list[Finding] = []
    if "90s" in lowered or "ninet" in lowered or "enarian" in lowered:
        out += [_finding("age_over_89", text, m.start(), m.end()) for m in _AGE_WORDS.finditer(text)]
    if "ninety" in lowered or "hundred" in lowered:
        for m in _AGE_SPELLED.finditer(text):
            group = 1 if m.group(1) else 2
            out.append(_finding("age_over_89", text, m.start(group), m.end(group)))
    if "born" in lowered:
        current = date.today().year
        for m in _BORN_YEAR.finditer(text):
            # A birth year alone is allowed by Safe Harbor, unless it makes the person older than 89.
            if current - int(m.group(1)) > 89:
                out.append(_finding("age_over_89", text, m.start(), m.end()))
    return out


# --- numbers: record numbers, SSNs, phones ------------------------------------------------------------------

_RECORD_NUMBER = re.compile(r"\d[\d-]{2,14}\d(?![\w-])")
# The label is looked for just before the number; an optional letter prefix ("MRN A1234567") belongs to it.
_MRN_LABEL = re.compile(
    r"(?:\b(?:MRN|MR#|MR ?#|MR\s+no\.?|FIN|CSN)|\b(?i:mrn|med(?:ical)?\s+rec(?:ord)?(?:\s+(?:number|no\.?|#)|#)?|"
    r"record\s+(?:number|no\.?|#)|chart\s+(?:number|no\.?|#)|patient\s+(?:ID|number|no\.?|#)|pt\s+(?:ID|#)|"
    r"account\s+(?:number|no\.?|#)|acct\.?\s*#?|encounter\s+(?:number|no\.?|#|ID)|accession\s+(?:number|no\.?|#)|"
    r"hospital\s+(?:number|no\.?|#|ID))|(?<=\s)(#))"
    r"[\s:#]*(?:(?i:is|was|of)\s+)?([A-Z]{1,3}-?)?$"
)
# Numbers labelled as something other than a patient's record: provider and licence numbers, pagers, money.
_NOT_PATIENT_NUMBER = re.compile(
    r"(?:\b(?:NPI|DEA|license|licence|pager|ext|extension|zip|grant|award|invoice|order|ISBN|PMID|DOI|"
    r"version|v|ticket|badge|employee|provider)\b[\s#:.-]*|\$)$",
    re.IGNORECASE,
)
_SSN = re.compile(r"\d{3}-\d{2}-\d{4}(?![\w-])")
_SSN_LABELLED = re.compile(
    r"\b(?i:SSN|SS#|social security(?: number| no\.?| #)?)(?:\s+(?i:ending in|ends in|is|was|of|last (?:4|four)))?"
    r"[\s:#]*(\d{9}|\d{3}[ -]\d{2}[ -]\d{4}|\d{4})\b"
)
_PHONE_PLAIN = re.compile(r"\d{3}[\s.-]\d{3}[\s.-]\d{4}(?![\w/-])")
_PHONE_PAREN = re.compile(r"\((\d{3})\)\s?\d{3}[\s.-]\d{4}(?![\w/-])")
_COUNTRY_CODE = re.compile(r"\+?1[\s.-]?$")
_LOCAL_NUMBER = re.compile(r"(?:\d{3}-\d{4}|\d{10})(?![\w-])")
_PHONE_CUE = re.compile(r"\b(?i:call|phone|cell|tel|text|number|mobile|landline|reach (?:her|him|them) at)"
                        r"[\s:#.,]*(?:is\s+|at\s+)?$")
_TOLL_FREE = {"800", "888", "877", "866", "855", "844", "833"}


def _record_number_at(text: str, start: int) -> list[Finding]:
    """A labelled record number ("MRN 12345678"), or a bare 7-10 digit number near patient context."""
    m = _RECORD_NUMBER.match(text, start)
    lead = start
    while lead > 0 and start - lead < 3 and text[lead - 1].isupper():
        lead -= 1  # a letter prefix, "A1234567"
    if not m or _glued_before(text, lead, "-"):
        return []
    end = m.end()
    label = _MRN_LABEL.search(text, max(0, start - 45), start)
    if label and (not label.group(1) or _has_context(text, start, end)):
        return [_finding("mrn", text, start - len(label.group(2) or ""), end)]
    if lead == start and _is_bare_record_number(text, m) and _has_context(text, start, end):
        return [_finding("mrn", text, start, end)]
    return []


def _is_bare_record_number(text: str, m: re.Match[str]) -> bool:
    """7-10 plain digits that are not money, a decimal, a list of numbers or a labelled provider number."""
    digits = m.group()
    if not digits.isdigit() or not 7 <= len(digits) <= 10:
        return False
    before = text[m.start() - 1] if m.start() else " "
    after = text[m.end()] if m.end() < len(text) else " "
    if before in "./:$#," or after in "./%" or (after == "," and text[m.end() + 1:m.end() + 2].isdigit()):
        return False
    return not _NOT_PATIENT_NUMBER.search(text, max(0, m.start() - 20), m.start())


def _ssn_at(text: str, start: int) -> list[Finding]:
    m = _SSN.match(text, start)
    if not m or _glued_before(text, start, "-"):
        return []
    area, group, serial = m.group().split("-")
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return []  # never issued, so not an SSN
    return [_finding("ssn", text, start, m.end())]


def _labelled_ssns(text: str, lowered: str) -> list[Finding]:
    if "ssn" in lowered or "ss#" in lowered or "social security" in lowered:
        return [_finding("ssn", text, m.start(1), m.end(1)) for m in _SSN_LABELLED.finditer(text)]
    return []


def _phone_at(text: str, start: int) -> list[Finding]:
    """A phone number whose digits begin at start (its area code may sit in brackets just before)."""
    if start and text[start - 1] == "(":
        m = _PHONE_PAREN.match(text, start - 1)
        area, begin = (m.group(1), start - 1) if m else ("", start)
    else:
        m = _PHONE_PLAIN.match(text, start)
        area, begin = (m.group()[:3], start) if m else ("", start)
    if m:
        code = _COUNTRY_CODE.search(text, max(0, begin - 3), begin)
        begin = code.start() if code else begin
        if area in _TOLL_FREE or _glued_before(text, begin, "/-"):
            return []  # hotlines and organisations are not people; "x617-..." is part of something else
        return [_finding("phone", text, begin, m.end())]
    m = _LOCAL_NUMBER.match(text, start)
    if m and not _glued_before(text, start, "-") and _PHONE_CUE.search(text, max(0, start - 30), start):
        return [_finding("phone", text, start, m.end())]
    return []


# --- rooms, beds, addresses ---------------------------------------------------------------------------------

_ROOM_NUMBER = re.compile(r"[A-Z]?\d{1,4}[A-Za-z]?\b")
_ROOM_LABEL = re.compile(r"\b(?i:room|rm\.?|bed|bay|cubicle|stretcher|pod|resus|ward)\s*#?\s*$")
_ROOM_NOT_AFTER = re.compile(r"\s*(?i:hours?|hrs?|minutes?|mins?|days?|weeks?|nights?|am\b|pm\b|a\.m|p\.m|"
                             r"o'clock|times|patients?|people|residents?|x\b|-year)")
_TO_BED = re.compile(r"\bto\s+$", re.IGNORECASE)

_STREET_SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|Terrace|"
                  r"Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Pike|Alley|Row|Loop)\b\.?")
_STREET_WORD = r"(?:(?!(?:AM|PM|A\.M|P\.M|Dr|Mr|Mrs|Ms)\b)[A-Z][a-zA-Z'-]*\.?|\d{1,3}(?:st|nd|rd|th))"
_STREET_ADDRESS = re.compile(
    rf"\d{{1,6}}(?:-\d{{1,4}})?\s+(?:(?:[NSEW]\.?|North|South|East|West)\s+)?(?:{_STREET_WORD}\s+){{1,3}}"
    rf"{_STREET_SUFFIX}(?:,?\s+(?:Apt|Apartment|Unit|Suite|Ste|#)\.?\s*\w+)?"
)
_PO_BOX = re.compile(r"\b(?i:P\.?\s?O\.?\s+Box)\s+\d+")
_LIVES_ON = re.compile(rf"(?i:lives|living|resides|residing|home|house)\s+(?i:on|at|off)\s+((?:{_STREET_WORD}\s+)"
                       rf"{{1,3}}{_STREET_SUFFIX})")
_ZIP = re.compile(r"\d{5}(?:-\d{4})?\b")
_STATE_BEFORE_ZIP = re.compile(r",\s(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|"
                               r"NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC)\s$")
_LIVES_WORDS = ("lives", "living", "resides", "residing", "home", "house")


def _room_at(text: str, start: int) -> list[Finding]:
    """"room 412", "bed 4", "rm 12B", "Bed A2": a number right after a room or bed word."""
    if start and text[start - 1].isupper():
        start -= 1  # the letter of "A2"
    m = _ROOM_NUMBER.match(text, start)
    if not m or _glued_before(text, start):
        return []
    label = _ROOM_LABEL.search(text, max(0, start - 20), start)
    if not label or _ROOM_NOT_AFTER.match(text, m.end()):
        return []
    word = label.group().lower()
    if word.startswith(("room", "rm")) and _has_context(text, label.start(), m.end(), _MEETING_CONTEXT) \
            and not _has_context(text, label.start(), m.end()):
        return []  # "lecture in room 301"
    if word.startswith("bed") and _TO_BED.search(text, max(0, label.start() - 4), label.start()):
        return []  # "put the baby to bed 3 times"
    return [_finding("room_bed", text, label.start(), m.end())]


def _address_at(text: str, start: int) -> list[Finding]:
    """A street address or a "STATE 12345" ZIP code beginning with the number at start."""
    if _glued_before(text, start):
        return []
    m = _STREET_ADDRESS.match(text, start)
    if m:
        return [_finding("address", text, start, m.end())]
    m = _ZIP.match(text, start)
    if m and _STATE_BEFORE_ZIP.search(text, max(0, start - 5), start):
        return [_finding("address", text, start, m.end())]
    return []


def _addresses_in_words(text: str, lowered: str) -> list[Finding]:
    """Addresses led by words: "P.O. Box 12", "lives on Elm Street"."""
    out = []
    if "box" in lowered:
        out += [_finding("address", text, m.start(), m.end()) for m in _PO_BOX.finditer(text)]
    for word in _LIVES_WORDS:
        at = lowered.find(word)
        while at != -1:
            m = _LIVES_ON.match(text, at)
            if m:
                out.append(_finding("address", text, m.start(1), m.end(1)))
            at = lowered.find(word, at + 1)
    return out


# --- names and emails ---------------------------------------------------------------------------------------

# "Chen", "McKay", "O'Brien", "Jean-Baptiste" (a possessive "'s" is not part of the name).
_NAME = r"(?:[A-Z]'[A-Z][a-z]+|[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z]?[a-z]+|'[A-Z][a-z]+)?)"
# Starts with the literal "M" (fast to scan for); the lookbehind after it stands in for a leading \b.
_TITLE_NAME = re.compile(rf"M(?<![\w]M)(?:r|rs|s|x|iss|ister)\b\.?\s+{_NAME}(?:\s+{_NAME})?")
_NAMED_PATIENT = re.compile(rf"\b(?i:patient|pt)\.?\s+(?i:named|called)\s+({_NAME}(?:\s+{_NAME})?)")
# Right after a titled name, a possessive followed by a clinical noun is context enough: "Mrs. Chen's biopsy".
_POSSESSIVE_CLINICAL = re.compile(r"'s?\s+(?:\w+\s+)?(?:biopsy|scan|labs?|results?|chart|meds|wound|tumou?r|"
                                  r"surgery|diagnosis|prognosis|family|daughter|son|wife|husband|room|bed|code|"
                                  r"admission|discharge|case|pain|x-?ray|MRI|CT|path|cancer|dementia|delirium)\b",
                                  re.IGNORECASE)
_TITLES = ("Mr", "Ms", "Mx", "Miss", "Mister")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")


def _find_names(text: str) -> list[Finding]:
    out: list[Finding] = []
    if any(title in text for title in _TITLES):
        for m in _TITLE_NAME.finditer(text):
            if _POSSESSIVE_CLINICAL.match(text, m.end()) or _has_context(text, m.start(), m.end()):
                out.append(_finding("name_title", text, m.start(), m.end()))
    lowered = text.lower()
    for word in ("named", "called"):
        at = lowered.find(word)
        while at != -1:
            m = _NAMED_PATIENT.search(text, max(0, at - 12), at + 80)
            if m and m.start() < at:
                out.append(_finding("name_title", text, m.start(1), m.end(1)))
            at = lowered.find(word, at + 1)
    return out


# Names without a title: two or three capitalised words, in a patient's context and not a colleague's.
_CAPITALISED_RUN = re.compile(rf"{_NAME}(?:\s+(?:[A-Z]\.\s+)?{_NAME}){{1,3}}")
# Capitalised words that are not names: sentence openers, clinical verbs, places and calendar words.
_NOT_NAME_WORDS = frozenset("""
a an the we our my his her their i it this that these those he she they you your there here when after before
if while then so but and or yes no patient patients pt saw seen admitted discharged rounded consulted intubated
coded treated examined called met visited started stopped gave told asked today tonight yesterday tomorrow
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
september october november december hospital center centre clinic department unit ward street road avenue
north south east west elementary school university college medical general memorial st saint grand rounds
emergency intensive care icu ed er or big thanks had going dr doctor nurse professor happy thank dear hi hello
mr mrs ms mx miss mister
""".split())
_NAME_CUE_BEFORE = re.compile(r"\b(?i:patients?|pt|admit(?:ted|ting)?|discharg(?:ed|ing)|rounded\s+on|consulted\s+"
                              r"on|intubated|coded|treated|examined|saw|seen|pronounced|lost)\W+(?:\w+\W+){0,2}$")
_AGE_AFTER_NAME = re.compile(r",?\s+(?:\d{1,3}|aged\s+\d{1,3})\s*(?:,|-?\s*(?:years?|yo|y/o))")
_COLLEAGUE_BEFORE = re.compile(r"\b(?i:dr|doctor|co-?resident|resident|attending|mentor|colleague|intern|chief|"
                               r"director|friend|classmate|fellow|professor|nurse|PGY-?\d|coordinator|author|"
                               r"thanks|with)\W+(?:\w+\W+){0,2}$")
_NAME_WINDOW = 60


def _name_tokens(run: re.Match[str]) -> tuple[int, int] | None:
    """The span of a run left after dropping leading and trailing non-name words, if 2 or 3 words remain."""
    words = list(re.finditer(r"[A-Za-z'.-]+", run.group()))
    while words and words[0].group().lower().rstrip(".") in _NOT_NAME_WORDS:
        words.pop(0)
    while words and words[-1].group().lower().rstrip(".") in _NOT_NAME_WORDS:
        words.pop()
    if not 2 <= len(words) <= 4 or any(w.group().lower() in _NOT_NAME_WORDS for w in words):
        return None
    return run.start() + words[0].start(), run.start() + words[-1].end()


def _untitled_names(text: str) -> list[Finding]:
    """"Patient John Smith in 4B", "we admitted Maria Gonzalez, 71, ...", "Eleanor Vance's biopsy"."""
    out = []
    for run in _CAPITALISED_RUN.finditer(text):
        span = _name_tokens(run)
        if span is None:
            continue
        start, end = span
        before = text[max(0, start - 40):start]
        if _COLLEAGUE_BEFORE.search(before) or _glued_before(text, start, "."):
            continue
        cued = bool(_NAME_CUE_BEFORE.search(before) or _AGE_AFTER_NAME.match(text, end)
                    or _POSSESSIVE_CLINICAL.match(text, end))
        lo, hi = max(0, start - _NAME_WINDOW), min(len(text), end + _NAME_WINDOW)
        if cued or _PATIENT_CONTEXT.search(text, lo, start) or _PATIENT_CONTEXT.search(text, end, hi):
            out.append(_finding("name", text, start, end))
    return out


# An age (any age) with a town or a unit: "a 67-year-old from Millbrook", "the 34yo ... on 5 West".
_AGE_ANY = re.compile(r"\b(\d{1,3})(?:-year-old|\s+year\s+old|\s*yo\b|\s*y/o\b|-yo\b)", re.IGNORECASE)
_PLACE_AFTER = re.compile(
    r"[^.;!?]{0,60}?\b(?:from\s+(?:the\s+)?(?:[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})"
    r"|on\s+(?:\d{1,2}\s*(?:North|South|East|West|[A-Z])\b|[A-Z]\d{1,2}\b|\d[A-Z]\b))"
)


def _ages_with_places(text: str) -> list[Finding]:
    out = []
    for m in _AGE_ANY.finditer(text):
        place = _PLACE_AFTER.match(text, m.end())
        if place:
            out.append(_finding("age_place", text, m.start(), place.end()))
    return out


def _find_emails(text: str) -> list[Finding]:
    if "@" not in text:
        return []
    return [_finding("email", text, m.start(), m.end()) for m in _EMAIL.finditer(text)]


# --- public API ---------------------------------------------------------------------------------------------

# Every identifier that contains a number is looked for where a run of digits starts: one fast scan for digit
# runs, then anchored matches at each, instead of a full scan of the text per pattern.
_DIGIT_RUN = re.compile(r"\d+")
_AT_NUMBER: tuple[Callable[[str, int], list[Finding]], ...] = (
    _ssn_at, _dates_at, _phone_at, _record_number_at, _age_at, _room_at, _address_at)


def find_identifiers(text: str) -> list[Finding]:
    """All likely patient identifiers in text, sorted by start, overlaps resolved by specificity then length."""
    lowered = text.lower()
    found = _find_emails(text) + _find_names(text) + _ages_in_words(text, lowered) + _untitled_names(text)
    found += _ages_with_places(text)
    found += _labelled_ssns(text, lowered) + _addresses_in_words(text, lowered)
    runs = [m.start() for m in _DIGIT_RUN.finditer(text)]
    if runs:
        found += _month_first_dates(text)
        for start in runs:
            for finder in _AT_NUMBER:
                found += finder(text, start)
    return _resolve(found)


def _resolve(found: list[Finding]) -> list[Finding]:
    """Keeps non-overlapping findings, preferring specific kinds, then longer spans, then earlier ones."""
    ranked = sorted(found, key=lambda f: (_PRIORITY[f.kind], -(f.end - f.start), f.start))
    kept: list[Finding] = []  # sorted by start, never overlapping, so neighbours are enough to check
    starts: list[int] = []
    for f in ranked:
        i = bisect.bisect_left(starts, f.start)
        if (i > 0 and kept[i - 1].end > f.start) or (i < len(kept) and kept[i].start < f.end):
            continue
        kept.insert(i, f)
        starts.insert(i, f.start)
    return kept


def highlight(text: str, findings: Iterable[Finding]) -> Markup:
    """HTML-escaped text with each finding wrapped in <mark class="phi" data-kind="...">."""
    parts: list[Markup] = []
    cursor = 0
    for f in sorted(findings, key=lambda f: f.start):
        if f.start < cursor:  # overlapping input: skip rather than produce broken markup
            continue
        parts.append(escape(text[cursor:f.start]))
        strong = Markup(' data-strong="1"') if f.kind in STRONG else Markup("")
        parts.append(Markup('<mark class="phi" data-kind="{}"{}>{}</mark>').format(f.kind, strong,
                                                                                   text[f.start:f.end]))
        cursor = f.end
    parts.append(escape(text[cursor:]))
    return Markup("").join(parts)
