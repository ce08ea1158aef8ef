"""Crisis-language detector: first-person suicidal thoughts, self-harm and acute distress, sentence by sentence."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from community.platform.safety import minilm, respell

NONE = "none"
DISTRESS = "distress"
RISK = "risk"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class CrisisResult:
    fired: bool
    level: str  # "none" | "distress" | "risk"
    spans: tuple[Span, ...]
    # Which detectors fired: rule ids, "semantic" (the classifier on a sentence), "semantic:whole" (on the post).
    sources: tuple[str, ...] = ()


# Every replacement maps one character to one character, so offsets in the normalised text are offsets in
# the original: spans can be cut from what the member actually wrote.
_NORMALISE = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2026": ".", "\u2014": ",", "\u2013": ",",
})

# --- building blocks ---------------------------------------------------------------------------------------
# Rules are written with plain spaces for readability; each space becomes \s+ so that doubled spaces, tabs and
# line breaks inside a sentence do not defeat them.

# Most rules are "<subject> <fillers> <core phrase>". Only the core is a regex (scanning a sentence for a subject
# at every position was far too slow); the subject is found by walking back from the core over filler words.
# A subject is the writer ("I", "part of me", "my brain keeps telling me to", "has me"), nothing at all at the
# start of a sentence ("Want to disappear."), or a continuation ("...and want to", "...sat there thinking about")
# whose subject is checked afterwards: the writer must appear earlier in the sentence with nobody else in between.
_SUBJECT_MARK = "%SUBJ%%FILL%"
_WRITER_TOKENS = frozenset({"i", "i'm", "i've", "i'd", "i'll", "im", "ive"})
_CONJUNCTIONS = frozenset({"and", "but", "so", "yet", "or"})
_GERUNDS = frozenset({"thinking", "wondering", "fantasizing", "fantasising", "daydreaming", "dreaming", "googling",
                      "researching", "planning", "picturing", "imagining", "wishing", "hoping", "praying", "crying",
                      "sobbing", "shaking"})
# Multi-word subjects, matched against the text just before the fillers.
_SUBJECT_TAIL = re.compile(
    r"(?:\bpart\s+of\s+me|\b(?:is\s+it|it's|it\s+is|am\s+I)\s+(?:normal|okay|ok|weird|wrong|bad|crazy|selfish|"
    r"strange)\s+(?:to|that\s+I|if\s+I)|\bmy\s+(?:brain|head|mind|thoughts?|inner\s+voice)\s+(?:keeps\s+|kept\s+|"
    r"is\s+|are\s+|just\s+)?(?:telling|tells|told|saying|says)\s+me\s+(?:to|I\s+should)|\bmy\s+plan\s+(?:is|was)|"
    r"\b(?:has|have|had|got|leaves|left|keeps)\s+me|\bI(?:'m|\s+am|'d\s+be|'ve\s+become|\s+became)\s+(?:someone|"
    r"a\s+person|the\s+kind\s+of\s+person|the\s+type\s+of\s+person)\s+(?:who|that))\s*$",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\w+(?:'\w+)*")

# Words that may sit between the subject and the core phrase: auxiliaries, hedges, intensifiers, verbs of wanting
# and thinking. Negators are deliberately absent, so "I would never hurt myself" cannot match at all. One word per
# alternative keeps the repetition unambiguous (no exponential backtracking).
_FILL_WORDS = (
    "am are is was were have has had would will do does did could might may should must keep keeps kept been be "
    "being get gets got getting feel feels feeling felt start started starting begin began like just really "
    "honestly truly seriously genuinely actually kinda sorta sometimes often still literally almost so very "
    "totally completely pretty quite constantly always now lately occasionally secretly quietly mostly also even "
    "ever finally increasingly fucking lowkey simply only too all again tbh ngl i im want wants wanted wanting "
    "wanna going gonna need needs plan planning tempted try tried trying urge urges to about of thinking thought "
    "think considering consider wish wished wishing hope hoping pray praying imagine imagining daydream "
    "daydreaming fantasize fantasizing fantasise fantasising dream dreaming wonder wondering half bit little a "
    "more most some nights tonight today right ready i'm i've i'd i'll id ive"
)
# Multi-word fillers; none is a sequence of single fillers, so there is still only one way to read a phrase.
_FILL_PHRASES = ("can't stop", "cant stop", "cannot stop", "couldn't stop", "kind of", "sort of", "a lot",
                 "all the time", "more and more", "these days", "at times", "at night", "every day")
_FILL = (r"(?:\s*\b(?:" + "|".join(p.replace(" ", r"\s+") for p in _FILL_PHRASES) + "|"
         + "|".join(_FILL_WORDS.split()) + r")\b)*\s*")
_FILL_SET = frozenset(_FILL_WORDS.split())
_FILL_PHRASE_SET = frozenset(tuple(p.split()) for p in _FILL_PHRASES)

# "n't" with or without the apostrophe.
_NT = r"(?:n'?t\b| not\b)"

# After a mention of suicide or self-harm, only these may follow for it to be about the writer; anything else
# ("suicide prevention", "self-harm presentations in adolescents") makes it a topic.
_OWN_END = (r"(?= *(?:[.,;:!?)]|$|again|lately|a lot|more|and|but|so|every|tonight|constantly|all the time|too|"
            r"at night|when|while|since|because|today|as (?:an option|a way out|the only)|recently|daily|non-?stop|"
            r"seriously|for (?:weeks|months|days|years|a while)|or|I|honestly|ngl|tbh))")

# Ways of dying or harming oneself, as things one thinks about, has thoughts of, googles.
_DEATH = (
    r"(?:suicide\b" + _OWN_END + r"|dying\b(?! (?:patients?|people|persons?|man|woman|kids?|child|children|with|"
    r"well|at|in|process|moments?|breath|words|wish|declaration|languages?|art|industry|days of|to|of)\b)"
    r"|being dead\b|killing myself\b|kill myself\b|ending (?:it|it all|my life|things)\b(?! with)|end my life\b"
    r"|not (?:being (?:here|alive|around)|existing|waking up)\b|my own (?:death|funeral|suicide)\b"
    r"|my funeral\b|who would come to my funeral\b"
    r"|(?:jumping|stepping|walking|throwing myself)(?= *(?:[.,;!?]|$|off|from|in front|into (?:traffic|the)|again))"
    r"|overdosing\b|overdose\b(?! (?:patients?|cases?|deaths?|rates?|reversal|kits?|training|in|among))"
    r"|driving (?:into|off)\b|crashing my car\b|hanging myself\b|disappearing (?:forever|for good)\b"
    r"|hurting myself\b|cutting myself\b|harming myself\b|self[- ]?harm(?:ing)?\b" + _OWN_END
    + r"|(?:cutting|slitting|slashing) my (?:wrists?|arms?|throat|thighs?)\b"
    r"|(?:swallowing|taking|downing) (?:everything|all (?:of )?(?:my|the) (?:pills|meds)|a (?:whole )?bottle|the whole "
    r"bottle)\b"
    r"|(?:my car|myself) (?:hitting|crashing into|going off|swerving into|driving into|slamming into) (?:a|the|an)\b"
    r"|(?:the |a |an )?(?:\w+ ){0,3}(?:ways?|methods?|means) (?:to|of) (?:die|dying|end (?:it|my life)|kill myself|"
    r"killing myself)\b"
    r"|do(?:ing)? it\b(?= *(?:[.,;!?]|$|tonight|soon|this)))"
)

# Phrases that send "disappear" or "vanish" somewhere pleasant: "disappear to a cabin for a week".
_AWAY = (r"(?! (?:for (?:a|the|an|like|\d+|two|three|a few|some)|to|into (?:a|the|my)|on (?:vacation|holiday|a|the)|"
         r"until|till|after|from (?:this|the|that)|under|into my|back|behind|in (?:a|the|my) (?:hoodie|crowd|bed|"
         r"library|call room)|somewhere|off the grid for|over the weekend|for the weekend))")

_MACROS = {"%FILL%": _FILL, "%NT%": _NT, "%DEATH%": _DEATH, "%AWAY%": _AWAY}


@dataclass(frozen=True)
class _Part:
    free: re.Pattern[str] | None  # alternatives that name their own subject ("better off without me")
    core: re.Pattern[str] | None  # alternatives that need the writer as subject ("want to die")
    # Lower-case words the part cannot match without: each group needs one of its words in the sentence. Looked
    # up through an index, this keeps almost every sentence away from the regexes.
    keywords: tuple[frozenset[str], ...]


@dataclass(frozen=True)
class _Rule:
    name: str
    level: str
    parts: tuple[_Part, ...]


def _compile(template: str) -> re.Pattern[str]:
    """Turns a readable rule into a regex: " *" becomes \\s*, other spaces \\s+, macros are expanded."""
    source = template.replace(" *", r"\s*").replace(" ", r"\s+")
    for macro, body in _MACROS.items():
        source = source.replace(macro, body.replace(" *", r"\s*").replace(" ", r"\s+"))
    return re.compile(_whole_words_in_lookarounds(source), re.IGNORECASE)


_LOOKAROUND_GROUP = re.compile(r"\(\?[!=]\\s[*+]\(\?:")


def _whole_words_in_lookarounds(source: str) -> str:
    """Makes "(?! (?:to|an))" mean the words "to" and "an", not the starts of "tomorrow" and "and".

    Appends (?!\\w) to each word list that forms the whole body of a lookaround.
    """
    out, cursor = [], 0
    for m in _LOOKAROUND_GROUP.finditer(source):
        close = _closing_paren(source, m.end() - 3)
        if m.start() < cursor or close + 1 >= len(source) or source[close + 1] != ")":
            continue
        out.append(source[cursor:close + 1] + r"(?!\w)")
        cursor = close + 1
    out.append(source[cursor:])
    return "".join(out)


def _closing_paren(source: str, open_at: int) -> int:
    """Index of the parenthesis closing the group opened at open_at (skipping escapes and classes)."""
    depth, i, in_class = 0, open_at, False
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced pattern")


def _rule(name: str, level: str, *parts: tuple[str, str]) -> _Rule:
    """A rule from (template, keywords) parts; keywords are "a|b & c|d" (a or b, and c or d)."""
    return _Rule(name, level, tuple(_part(template, keywords) for template, keywords in parts))


def _part(template: str, keywords: str) -> _Part:
    """Splits alternatives into subject-bearing ones and bare cores (marked with a leading %SUBJ%%FILL%)."""
    free, cores = [], []
    for alternative in _top_level_alternatives(template):
        if alternative.startswith(_SUBJECT_MARK):
            cores.append(alternative[len(_SUBJECT_MARK):])
        else:
            free.append(alternative)
    groups = tuple(frozenset(group.split("|")) for group in keywords.split(" & "))
    return _Part(_compile("|".join(free)) if free else None, _compile("|".join(cores)) if cores else None, groups)


def _top_level_alternatives(template: str) -> list[str]:
    """The template split at "|" outside any group or character class."""
    parts, depth, in_class, i, last = [], 0, False, 0, 0
    while i < len(template):
        ch = template[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(template[last:i])
            last = i + 1
        i += 1
    parts.append(template[last:])
    return parts


# Things that make a self-harm phrase accidental or figurative ("cut myself shaving", "cut myself some slack").
_ACCIDENT = (
    r"(?! (?:shaving|cooking|chopping|slicing|opening|lifting|running|skiing|playing|climbing|falling|tripping|"
    r"slipping|accidentally|by accident|by \w+ing|with (?:the|a|an) (?:scalpel|knife|needle|blade|suture|stapler|"
    r"trocar|scissors|saw)|on (?!purpose)\w+|at (?:the|work|home|the gym)|in the (?:kitchen|OR|gym|lab)|while|"
    r"during|when|trying|more than|doing|over (?:this|that|it)|worrying|working|studying|(?:some )?slack|a break|"
    r"off|out of|short))"
)

# Topic words after "suicide": the sentence is about suicide as a subject, not the writer's own thoughts.
_TOPIC = (
    r"(?! (?:prevention|rates?|risk|statistics|stats|awareness|screening|assessments?|among|in (?:physicians|"
    r"residents|doctors|medicine|the|our|healthcare|medical)|research|data|studies|study|literature|notes? "
    r"(?:from|of|by)|training|protocols?|policy|policies|hotlines?|watch|attempts? (?:in|among|by)|of (?:a|my|"
    r"the|our|his|her|their|patients|residents|physicians|colleagues)|as a|cases?|deaths?|survivors?|"
    r"bereavement|postvention|lectures?|talks?|modules?|curriculum|epidemiology|crisis lines?))"
)

_PILLS = (r"(?:pills|meds|medications|insulin|tablets|capsules|oxy\w*|benzos|opioids|sleeping pills|propofol|"
          r"potassium|fentanyl|\w+ (?:pills|tablets|capsules))")

_RULES: tuple[_Rule, ...] = (
    # --- risk: wishing to be dead, to die, not to exist -------------------------------------------------------
    _rule("want_to_die", RISK,
          (r"%SUBJ%%FILL%\b(?:want|wants|wanting|wanna|long|longing|ready|wish|need|waiting) (?:to )?(?:just )?"
           r"(?:die|be dead|stop living|stop existing|cease to exist|not exist|not be alive)\b"
           # Not a wish for an ordinary death one day, nor an idiom: "die of embarrassment", "die on this hill",
           # "die peacefully at home", "die in my sleep at 95", "die on a beach someday".
           r"(?! (?:of|from|laughing|alone|happy|old|in my sleep|peacefully|with dignity|than|on|at (?:home|\d+)|"
           r"surrounded|someday|one day|when I'?m (?:old|\d+)|after a long))",
           "die|dead|living|existing|exist|alive & want|wants|wanting|wanna|long|longing|ready|wish|need|"
           "waiting"),
          (r"\bmakes? me (?:just |really |honestly |sometimes )?want to (?:die|not exist|disappear forever)\b",
           "me & want & die|exist|disappear")),
    _rule("wish_dead", RISK,
          (r"\bwish(?:ing|ed)?(?: that)? I (?:was|were|could be|would be|'d be|could just be) dead\b"
           r"|\bwish(?:ing|ed)?(?: that)? I(?: could|'d| would| might)(?: just)? (?:die|not exist|stop existing|"
           r"disappear|vanish|not wake up|never wake up)\b%AWAY%"
           r"|\bwish(?:ing|ed)?(?: that)? I(?: had never been born|'d never been born| was never born| were never "
           r"born| didn'?t exist| did not exist| wasn'?t alive| weren'?t alive| wasn'?t here anymore| weren'?t here "
           r"anymore| wasn'?t around anymore| hadn'?t woken up| had not woken up| never woke up|'d never woken up)",
           "wish|wishing|wished")),
    _rule("rather_dead", RISK,
          (r"\bI(?:'d| would)? (?:honestly |really |just )?rather (?:be dead|die|not exist|not be alive)\b"
           r"(?! than (?!(?:keep|go on|live|continue|feel|wake|face|be here|be alive)))",
           "rather")),
    _rule("better_off_dead", RISK, (r"%SUBJ%%FILL%\bbetter off dead\b", "dead & better"),
          (r"%SUBJ%%FILL%(?:'m |\bam |'d be |\bwould be |\bwas )?(?:honestly |probably |literally )?worth more "
           r"(?:to (?:them|my family|my kids|everyone|my wife|my husband|my partner) )?dead\b", "dead & worth")),
    _rule("tired_of_living", RISK,
          (r"%SUBJ%%FILL%(?:'m |\bam )?(?:so |just |really |completely |honestly )*(?:sick|tired|done|exhausted)"
           r"(?: and tired)? (?:of|with) (?:being alive|living|existing|life|waking up|this life|it all)\b"
           r"(?! (?:in|with|out of|on|at|as a|near|like a|paycheck|alone))",
           "alive|living|existing|life|waking|all & sick|tired|done|exhausted")),
    _rule("death_as_relief", RISK,
          (r"\b(?:death|dying|being dead|not waking up|not existing|ending it|killing myself|suicide|the thought of "
           r"(?:dying|death|not waking up|not existing|ending it)|the idea of (?:dying|death|not waking up|not "
           r"existing|ending it)) (?:honestly |really |just )?(?:sounds|seems|feels|looks|would be|would feel|is "
           r"starting to (?:sound|feel|look|seem)|brings me|gives me|is|has become) (?:like )?(?:a |an |so |kind of "
           r"|such a |the |my )?(?:only |best |easiest |last )?(?:relief|rest|peace|peaceful|escape|way out|answer|"
           r"solution|option|exit|appealing|tempting|nice|easier|comforting|comfort|better)\b"
           r"(?! (?:for (?:him|her|them|the|my|our|patients|a|some)|to (?:him|her|them|the|my|patients)))",
           "death|dying|dead|waking|existing|ending|killing|suicide & relief|rest|peace|peaceful|escape|way|"
           "answer|solution|option|exit|appealing|tempting|nice|easier|comforting|comfort|better"),
          (r"\b(?:dying|death|being dead|not waking up) (?:wouldn'?t|would not|doesn'?t|does not|might not) (?:be|"
           r"seem|feel) (?:so |that |all that |too )?(?:bad|terrible|awful|scary)\b"
           r"(?! (?:for (?:him|her|them|the|my|our|patients|a|some)))",
           "death|dying|dead|waking & bad|terrible|awful|scary")),
    _rule("dont_want_to_live", RISK,
          (r"%SUBJ%%FILL%(?:do%NT%|don'?t|dont|no longer|didn'?t|did%NT%) (?:really |even |honestly |actually |"
           r"just )?(?:want|wanna|feel like I want) to (?:"
           r"exist\b|be alive\b|live\b(?! (?:in|with|near|at|on|by|here|there|downtown|alone|together|close|so far|"
           r"far|like that|through (?:another|that)|off|under|paycheck|out of|abroad|with)\b)"
           r"|be here (?:anymore|any more|any longer|no more|on (?:this )?earth|in this world|at all)\b"
           r"|be on this earth\b|be in this world\b|be around (?:anymore|any more|any longer)\b"
           r"|wake up\b(?! (?:at|early|before|for|to|so|in the|on|every (?:day )?at|tomorrow at|at \d+|the|my|him|"
           r"her|them|everyone|anyone))"
           r"|keep (?:living|existing)\b|keep going\b(?! with)|go on\b(?! (?:vacation|call|leave|a|the|rounds|with|"
           r"nights|service))|continue\b(?! (?:with|the|this|my|in|on|to))|be me anymore\b|do life anymore\b)",
           "want|wanna & do|don't|dont|no|didn't|didnt|did")),
    _rule("not_sure_want_to_live", RISK,
          (r"\b(?:not sure|(?:don'?t|do not) (?:even |really )?know (?:if|whether)|unsure (?:if|whether)|"
           r"(?:don'?t|do not) (?:even |really )?(?:think|believe)) I "
           r"(?:even |really |still )?want to (?:live|be alive|be here|keep going|exist|wake up)\b"
           r"(?! (?:in|with|near|at|here|there))",
           "want & sure|know|unsure|think|believe")),
    _rule("disappear", RISK,
          (r"%SUBJ%%FILL%\b(?:want|wanna|wanting|wants|wish|could|long|longing|need|would love to|dream of|dream "
           r"about) (?:to )?(?:just |simply |quietly |completely |permanently |forever )*(?:disappear|disappearing|"
           r"vanish|vanishing|fade away|evaporate|stop existing|cease to exist|not exist|not be alive|not be here "
           r"(?:anymore|any more|any longer))\b%AWAY%",
           "disappear|disappearing|vanish|vanishing|fade|evaporate|existing|exist|alive|here & "
           "want|wanna|wanting|wants|wish|could|long|longing|need|love|dream")),
    _rule("not_be_here_much_longer", RISK,
          (r"\bI(?: won'?t| will not|'m not going to| am not going to| may not| might not| probably won'?t|"
           r" don'?t think I'?ll| do not think I will) be (?:around|here|alive) (?:much longer|for (?:much|very) "
           r"long|anymore|any more|any longer|to (?:see|find out)|by (?:then|the end|next))\b",
           "around|here|alive & be & won't|wont|will|not|may|might|don't|dont|do")),
    _rule("not_safe", RISK,
          (r"%SUBJ%%FILL%(?:(?:'m|\bam) )?(?:really |just |honestly |actually )*\bnot safe\b(?! (?:to|driving|on|at|"
           r"in|from|around|with (?!myself)|for|here|there|anymore at))"
           r"|%SUBJ%%FILL%\b(?:don'?t|do not|can'?t) (?:feel|keep myself|stay) safe (?:with myself|being alone|"
           r"alone|tonight|right now|by myself|anymore)\b",
           "safe & not|don't|dont|do|can't|cant")),
    # --- risk: suicide, ending one's life ---------------------------------------------------------------------
    _rule("kill_myself", RISK,
          (r"%SUBJ%%FILL%\b(?:kill|killing|off|offing|hang|hanging|shoot|shooting|drown|drowning|poison|poisoning|"
           r"suffocate|suffocating|end|ending) myself\b"
           r"(?! (?:studying|working|trying|laughing|to (?:get|finish|make|meet|keep|study|prepare|impress|please|"
           r"pass|be)|for (?:\w+ing|not|this|that|nothing|them|a|the|my|our|these|those|it)|over|with (?:work|"
           r"overtime|extra|these|this|caffeine|coffee)|at (?:work|the gym|this job)|on (?:this|these|that|those|"
           r"the)|in the (?:gym|library)))",
           "myself & kill|killing|off|offing|hang|hanging|shoot|shooting|drown|drowning|poison|poisoning|"
           "suffocate|suffocating|end|ending"),
          (r"\bkms\b", "kms"),
          (r"\b(?:almost|nearly|tried to|attempted to) kill(?:ed)? myself\b"
           r"(?! (?:on|falling|tripping|slipping|in the (?:gym|snow|ice|shower)|with (?:the|a|that|this) "
           r"(?:bike|car|ladder|knife)|skiing|climbing|running|laughing))",
           "myself & kill|killed")),
    _rule("end_my_life", RISK,
          (r"\b(?:end|ending|ended|take|taking|took) my (?:own )?life\b(?! (?:into|in my own hands|back|seriously))"
           r"|\b(?:end|ending) it all\b",
           "life|all & end|ending|ended|take|taking|took")),
    _rule("end_it", RISK,
          (r"%SUBJ%%FILL%\b(?:end|ending) (?:it|things|everything)(?: all)?\b"
           r"(?! (?:with|between|early|on|at|by|here|there|for|after|before|soon|off|now and|today|tonight at|"
           r"politely|gracefully|nicely|well|there|in the|once|properly))",
           "end|ending & it|things|everything")),
    _rule("suicidal", RISK,
          (r"%SUBJ%%FILL%\b(?:passively |actively |a bit |a little |kind of |kinda |so |very |really )*suicidal\b"
           r"(?= *(?:[.,;:!?)\]-]|$|and|but|again|lately|today|tonight|right now|now|for|since|these|this|most|"
           r"every|all|sometimes|at times|thoughts|ideation|feelings|urges|yesterday|last|because|when|after|"
           r"before|though|or|like|ideas|myself|too|as well|honestly|tbh|ngl|lol|I))",
           "suicidal"),
          (r"%SUBJ%%FILL%\b(?:having|had|have|get|getting|experiencing|experienced|dealing with|struggling with|"
           r"struggle with|fighting|battling|fight|battle|hit with|plagued by|haunted by|back to|with|had some|"
           r"keep having|been having) (?:some |a lot of |many |lots of |constant |daily |frequent |these |more |"
           r"those |the |intrusive |dark |passive |active |recurring |occasional |serious |real |actual |my )*"
           r"(?:suicidal (?:thoughts|ideation|ideations|feelings|urges|ideas)|SI\b)",
           "suicidal|si"),
          (r"%SUBJ%%FILL%\b(?:having|had|have|get|getting|experiencing|experienced|dealing with|struggling with|"
           r"struggle with|fighting|battling|fight|battle|hit with|plagued by|haunted by|back to|with|had some|"
           r"keep having|been having) (?:some |a lot of |many |lots of |constant |daily |frequent |these |more |"
           r"those |the |intrusive |dark |passive |active |recurring |occasional |serious |real |actual |my )*"
           r"thoughts (?:of|about) %DEATH%",
           "thoughts & of|about")),
    _rule("my_suicidal_thoughts", RISK,
          (r"\bmy (?:own )?(?:passive |active )?(?:suicidal (?:thoughts|ideation|feelings|urges)|SI\b|"
           r"suicide attempts?\b|(?:last |first |previous |prior |recent )(?:suicide )?attempt\b|"
           r"urges? to (?:cut|self[- ]?harm|hurt myself|burn myself|die|end it)|self[- ]?harm\b(?! (?:patients?|"
           r"lecture|talk|research|study|module|assessments?|training)))",
           "my & suicidal|si|suicide|attempt|attempts|urge|urges|harm|selfharm"),
          (r"^[\W_]*(?:the |my )?(?:passive |active )?(?:suicidal thoughts|SI|urges? to (?:cut|self[- ]?harm)) "
           r"(?:are|is|have been|has been|came|come) back\b",
           "back & suicidal|si|urge|urges"),
          (r"\b(?:thoughts?|urges?|fantasies|ideas?|images?) (?:of|about) (?:killing|hurting|harming|cutting|"
           r"burning|drowning|hanging|poisoning|starving) myself\b"
           r"|\b(?:thoughts?|fantasies|ideas?) (?:of|about) ending my (?:own )?life\b",
           "myself|life & thoughts|thought|urge|urges|fantasies|ideas|idea|images|image")),
    _rule("attempted", RISK,
          (r"%SUBJ%%FILL%\b(?:attempted|tried|survived|made) (?:a |an |my )?(?:suicide attempt|suicide|attempt on "
           r"my (?:own )?life)\b" + _TOPIC,
           "suicide|attempt")),
    _rule("think_about_dying", RISK,
          (r"%SUBJ%%FILL%\b(?:think|thinking|thought|thoughts|fantasi[sz]e|fantasi[sz]ing|dream|dreaming|obsess|"
           r"obsessing|ruminate|ruminating|wonder|wondering|google|googled|googling|research|researching|"
           r"researched|look|looking|looked|searched|searching|planning|plan|planned|imagine|imagining|picture|"
           r"picturing) (?:a lot |so much |constantly |all the time |more and more |again |daily |every day )?"
           r"(?:about |of |into |up |out )?(?:how I would |how I'd |how to |ways to |ways of )?%DEATH%",
           "think|thinking|thought|thoughts|fantasize|fantasise|fantasizing|fantasising|dream|dreaming|obsess"
           "|obsessing|ruminate|ruminating|wonder|wondering|google|googled|googling|research|researching|"
           "researched|look|looking|looked|searched|searching|planning|plan|planned|imagine|imagining|picture"
           "|picturing & suicide|dying|dead|killing|kill|ending|end|not|funeral|jumping|stepping|walking|"
           "throwing|overdosing|overdose|driving|crashing|hanging|disappearing|hurting|cutting|harming|harm|"
           "selfharm|selfharming|slitting|slashing|way|ways|method|methods|means|do|doing|swallowing|taking|"
           "downing|myself|death|hitting|swerving|slamming|going"),
          (r"\b(?:thought|idea|image|picture) of %DEATH% (?:\w+ ){0,3}?(?:brings|gives|makes|is|feels|sounds|seems) "
           r"(?:me )?(?:\w+ ){0,2}(?:peace|relief|comfort|calm|comforting|relieving|peaceful|appealing|tempting|nice|"
           r"good)\b",
           "thought|idea|image|picture & of & peace|relief|comfort|calm|comforting|relieving|"
           "peaceful|appealing|tempting|nice|good")),
    # --- risk: self-harm ---------------------------------------------------------------------------------------
    _rule("self_harm", RISK,
          (r"%SUBJ%%FILL%\b(?:cut|cutting|burn|burning|burned|burnt|hurt|hurting|harm|harming|scratch|scratching|"
           r"starve|starving|punish|punishing|bruise|bruising) myself\b" + _ACCIDENT,
           "myself & cut|cutting|burn|burning|burned|burnt|hurt|hurting|harm|harming|scratch|scratching|"
           "starve|starving|punish|punishing|bruise|bruising"),
          (r"%SUBJ%%FILL%\b(?:self[- ]?harm|self[- ]?harming|self[- ]?harmed)\b(?! (?:patients?|presentations?|in|"
           r"among|research|rates?|screening|assessments?|risk|lecture|talk|module|prevention|awareness|cases?))"
           r"|%SUBJ%%FILL%\b(?:relapsed|relapse|relapsing|slipped) (?:on|into|with|in|back into) "
           r"(?:self[- ]?harm|cutting|hurting myself)\b",
           "self|selfharm|selfharming|selfharmed|harm|harming|harmed|cutting|hurting"),
          (r"%SUBJ%%FILL%\b(?:cutting|cut) again\b"
           r"|%SUBJ%%FILL%\bcutting\b(?= *(?:[.,;!?]|$|again|more|lately|at night|for (?:a|months|weeks|years|\d+)|"
           r"since|on my|my (?:arms?|legs?|thighs?|wrists?|skin|stomach)))",
           "cut|cutting"),
          (r"%SUBJ%%FILL%\b(?:cut|cutting|slit|slitting|slash|slashing|burn|burning|burned|scratch|scratching) my "
           r"(?:own )?(?:arms?|wrists?|thighs?|legs?|skin|stomach|forearms?|hips?)\b" + _ACCIDENT,
           "my & arm|arms|wrist|wrists|thigh|thighs|leg|legs|skin|stomach|forearm|forearms|hip|hips"),
          (r"%SUBJ%%FILL%\b(?:drag|dragging|dragged|run|running|ran|press|pressing|pressed|hold|holding|held|use|"
           r"using|used) (?:a |the |my )?(?:razor|blade|knife|lighter|scissors|compass|glass|cigarette)(?: blade)? "
           r"(?:across|along|over|into|to|on|against) my (?:own )?(?:arms?|wrists?|thighs?|legs?|skin|stomach|"
           r"forearms?|hips?)\b",
           "razor|blade|knife|lighter|scissors|compass|glass|cigarette & my"),
          (r"%SUBJ%%FILL%\b(?:hide|hiding|hid|cover|covering|covered) (?:up )?(?:the |my |these |fresh |new |all "
           r"the )*(?:cuts|burns|self[- ]?harm scars|cut marks|scratches on my (?:arms?|wrists?|legs?))\b",
           "cuts|burns|scars|marks|scratches"),
          (r"%SUBJ%%FILL%\b(?:punch|punched|punching|hit|hitting|scratch|scratched|scratching|bang|banged|banging|"
           r"pick|picked|picking|bite|bit|biting) (?:[\w']+ ){0,4}until (?:it|they|my \w+|I) (?:bled|bleed|bleeds|"
           r"was bleeding|were bleeding|started bleeding)\b",
           "bled|bleed|bleeds|bleeding"),
          (r"\b(?:I|I've|I'm|my)\b%FILL%(?:(?:have|had|get|getting|feel|feeling|fight|fighting|resist|"
           r"resisting|struggling with|having) )?(?:(?:the|an|these|those|strong|such|constant|an overwhelming) )*"
           r"urges? to (?:cut|self[- ]?harm|hurt myself|burn myself|harm myself|die|end it|kill myself|disappear)\b"
           r"|\burges? to (?:hurt|harm|burn|cut|kill|punish) myself\b(?! (?:\w+ing))",
           "urge|urges")),
    # --- risk: burden and "better off without me" -------------------------------------------------------------
    _rule("better_off_without_me", RISK,
          (r"\bbetter off (?:without me|if I(?: were| was| wasn'?t| weren'?t|'m| am| died| disappeared| just| "
           r"never| didn'?t)\b|with me (?:gone|dead)|when I'?m gone|once I'?m gone|with (?:my|the) (?:life )?"
           r"insurance(?: money| payout)?)"
           r"|\b(?:would|'d|will|'ll) (?:all )?be (?:so much |much |a lot |way |)better without me\b",
           "better & off|without"),
          (r"\b(?:easier|better|simpler|a relief|happier|lighter) (?:for (?:everyone|everybody|them|all of them|my "
           r"family|my kids|my team|my partner|my wife|my husband|people) )?(?:if|when) I(?: was| were|'m| am| just|"
           r" finally)* (?:dead|gone|died|didn'?t exist|wasn'?t here|weren'?t here|wasn'?t around|weren'?t around|"
           r"disappeared|stopped existing|were to die|never woke up|didn'?t wake up|wasn'?t alive|killed myself)\b",
           "if|when & easier|better|simpler|relief|happier|lighter"),
          (r"\b(?:easier|better|simpler|a relief|fine) (?:if|when) (?:my car|the car|I) (?:just )?(?:went|goes|"
           r"drove|swerved|crashed|veered|ran|go|drive) (?:off|into) (?:the|a|an|oncoming)\b",
           "off|into & easier|better|simpler|relief|fine")),
    _rule("burden", RISK,
          (r"%SUBJ%%FILL%\b(?:a|just a|such a|nothing but a|only a) (?:huge |massive |total |complete |"
           r"constant |giant )?burden\b(?!-)(?! (?:of|on the (?:system|schedule)|for the (?:program|schedule)))",
           "burden")),
    _rule("no_one_would_miss", RISK,
          (r"\b(?:no ?one|nobody|noone|no-one) (?:would|will|'d|'ll|is going to|is gonna)(?: even| really| "
           r"actually| ever| truly)* (?:miss me|notice (?:if|when) I(?:'m| was| were)? (?:gone|dead|disappeared|"
           r"died)|notice I(?:'m| was)? gone|care (?:if|when) I (?:died|was gone|were gone|disappeared|killed "
           r"myself|was dead|were dead|didn'?t wake up))"
           r"|\bwould (?:anyone|anybody) (?:even |really |actually )?(?:miss me|notice|care)(?: if I (?:died|"
           r"disappeared|was gone|were gone|was dead|wasn'?t here|weren'?t here|stopped existing|killed myself))?"
           r"(?= *(?:[?.!]|$|if I (?:died|disappeared|was gone|were gone|was dead|wasn'?t here|weren'?t here)))",
           "miss|notice|care & no|one|nobody|noone|would|anyone|anybody"),
          (r"\bI (?:%FILL%)?(?:don'?t|do not|no longer|doesn'?t) (?:really |even )?care (?:if|whether) I (?:live or "
           r"die|die|wake up|make it|survive|get hurt)\b",
           "care & if|whether"),
          (r"\bthe only (?:thing|reason|person|one) (?:keeping|that keeps|that's keeping|who keeps) me (?:alive|"
           r"here|from (?:ending|killing|doing))\b",
           "keeping|keeps & only")),
    _rule("nothing_to_live_for", RISK,
          (r"\b(?:nothing|no reason|no one|nobody|noone) (?:left )?(?:for me )?to (?:live|stay|stay alive|keep "
           r"going|go on) for\b(?! (?:at (?:the|a|an|work|home|my|our|this|that|his|her)|after|during))"
           r"|\bno (?:reason|point|purpose) (?:to|in|of|for) (?:living|live|being alive|going on|keep(?:ing)? going|"
           r"existing|carry(?:ing)? on|wak(?:e|ing) up|me to (?:live|be here|stay))\b(?! (?:with|on|at) (?:the|this|that|our|it\b(?! all)|my (?!(?:own )?life\b))| on about\b)"
           r"|\b(?:what'?s|what is|whats) the point (?:of|in) (?:living|being alive|going on|waking up|existing|"
           r"life|staying alive|me being here)\b"
           r"|\bdon'?t see the point (?:of|in) (?:living|being alive|going on|anything anymore|life|waking up|"
           r"staying alive)\b",
           "living|live|alive|going|carry|carrying|wake|waking|existing|life|here|stay|staying & no|point|"
           "nothing|noone|nobody"),
          (r"\b(?:my )?life (?:is ?n'?t|is not|isn'?t|doesn'?t feel|no longer feels|no longer seems|does not feel|"
           r"doesn'?t seem|does not seem|is no longer|stopped being|not) worth living\b",
           "worth & living"),
          (r"%SUBJ%%FILL%\bdone with (?:living|life|being alive|existing|it all|this life|everything)\b(?! (?:in|at|"
           r"as a|out of|on|for (?:the|this|today)))",
           "done & with")),
    _rule("no_way_out", RISK,
          (r"\b(?:there'?s|there is|I (?:%FILL%)?(?:see|find|have)|see|seeing) no (?:other )?way out\b"
           r"(?! of (?:the|this|my|that) (?:contract|rotation|lease|call|meeting|schedule|parking))"
           r"|\bcan'?t (?:see|find) (?:a|any) (?:way out|light at the end|future for myself)\b",
           "way|light|future & out|end|myself"),
          (r"\bI (?:%FILL%)?(?:can'?t|cannot) (?:go on|carry on)\b(?= *(?:like this|anymore|any more|any longer|"
           r"living|with life|much longer|[.,;!?]|$))"
           r"|\b(?:don'?t|do not) (?:think|know if|know how|see how) I can (?:go on|carry on|keep living|stay alive)\b",
           "go|carry|keep|stay & on|living|alive"),
          (r"\b(?:suicide|dying|death|ending it|killing myself) (?:feels|seems|looks|is starting to (?:feel|look|"
           r"seem)|sounds|is) like (?:the|my) (?:only|best|easiest|last) (?:way out|option|answer|solution|choice|"
           r"exit)\b",
           "like & only|best|easiest|last")),
    _rule("wake_up", RISK,
          (r"\b(?:wish|hope|pray|praying|hoping|wishing)(?: that)? I (?:%FILL%)?(?:wouldn'?t|would not|won'?t|will "
           r"not|don'?t|do not|didn'?t|did not|never|could (?:just )?(?:not|never)) wake up\b(?! (?:the|my|him|her|"
           r"them|everyone|anyone|the baby|at|early|in time|for|before|late|on time))"
           r"|%SUBJ%%FILL%\b(?:fall|go|drift|falling|going|drifting|sleep|sleeping) (?:to sleep |asleep |off )?"
           r"(?:\w+ )?and (?:just )?(?:never|not|don'?t|not ever|never ever) wake (?:up|back up)\b"
           r"|\bwouldn'?t (?:mind|care) if I (?:didn'?t|did not|never|don'?t) wake up\b",
           "wake"),
          (r"%SUBJ%%FILL%\b(?:want|wanna|wish|need|long) (?:to )?(?:just )?(?:sleep|go to sleep) (?:forever|for good|"
           r"permanently)\b",
           "sleep & forever|good|permanently"),
          (r"\bwouldn'?t (?:mind|care) (?:if I )?(?:died|dying|got hit|getting hit|crashed|crashing|if (?:a|the) "
           r"(?:bus|truck|car|train) hit me|if I got into an? (?:accident|crash)|if something happened to me|if I "
           r"(?:just )?(?:didn'?t (?:exist|make it)|never came back|disappeared))\b",
           "wouldn't|wouldnt")),
    _rule("hope_for_accident", RISK,
          (r"%SUBJ%%FILL%\b(?:hope|hopes|hoping|pray|prays|praying|wish|wishes|wishing|fantasi[sz]e|fantasi[sz]ing|"
           r"dream|dreaming|imagine|imagining|secretly hope|welcome|welcoming) (?:about |of |for |that )?(?:I (?:get|"
           r"got|could get|would get|'d get|might get) (?:hit|into (?:a|an) (?:accident|crash)|in (?:a|an) "
           r"(?:accident|crash)|sick enough to die|a fatal)|(?:a|the|my) (?:bus|car|truck|train|plane) (?:hits|would "
           r"hit|hit|will hit) me|(?:the|my) (?:car|plane|helicopter|flight) (?:crashes|would crash|goes down|would "
           r"go down)|(?:a|an|some) (?:fatal )?(?:car )?(?:accident|crash)\b|getting hit by|my (?:car|plane) "
           r"(?:crashes|would crash|goes off|would go off)|not making it home)",
           "hit|hits|accident|crash|crashes|down|home|die|fatal & hope|hopes|hoping|pray|prays|praying|wish|wishes"
           "|wishing|fantasize|fantasise|fantasizing|fantasising|dream|dreaming|imagine|imagining|welcome|"
           "welcoming|secretly")),
    _rule("method", RISK,
          (r"%SUBJ%%FILL%\b(?:drive|driving|swerve|swerving|steer|steering|crash|crashing) (?:my car )?(?:into|off|in "
           r"front of) (?:a |the |an |oncoming )*(?:traffic|tree|wall|bridge|pole|barrier|overpass|median|river|semi|"
           r"truck|road|highway|cliff|guardrail|divider|lake|ravine)\b",
           "drive|driving|swerve|swerving|steer|steering|crash|crashing & into|off|front"),
          (r"%SUBJ%%FILL%\b(?:jump|jumping|step|stepping|throw myself|throwing myself|walk|walking) (?:off|from|in "
           r"front of|into) (?:the |a |an |this |that |my |our |next )*(?:hospital |parking )?(?:roof|rooftop|bridge|"
           r"building|balcony|parking (?:garage|structure|deck|lot roof)|garage|train|subway|bus|traffic|window|"
           r"ledge|cliff|helipad|overpass|river|car|lake|ocean|sea|tracks)\b",
           "jump|jumping|step|stepping|throw|throwing|walk|walking & roof|rooftop|bridge|building|balcony|"
           "garage|structure|deck|train|subway|bus|traffic|window|ledge|cliff|helipad|overpass|river|car|lake"
           "|ocean|sea|tracks|parking"),
          (r"%SUBJ%%FILL%\b(?:stockpile|stockpiling|stockpiled|hoard|hoarding|hoarded|save|saving|saved|collect|"
           r"collecting|collected|stash|stashing|stashed|count|counting|counted) (?:up )?(?:my |some |all my |all of "
           r"my |the |a bunch of |enough |extra )?" + _PILLS + r"\b",
           "stockpile|stockpiling|stockpiled|hoard|hoarding|hoarded|save|saving|saved|collect|collecting|"
           "collected|stash|stashing|stashed|count|counting|counted"),
          (r"%SUBJ%%FILL%\b(?:take|taking|swallow|swallowing|down|downing|overdose on|OD on) (?:all|every one|the "
           r"whole bottle|a whole bottle|the rest) (?:of )?(?:my |the |those |these )?(?:pills|meds|medications|"
           r"tablets|bottle)\b"
           r"|\b(?:take|taking|swallow|swallowing|down|downing) (?:all|every one|the rest) (?:of )?my " + _PILLS
           + r"\b",
           "all|every|rest & take|taking|swallow|swallowing|down|downing|overdose|od"),
          (r"%SUBJ%%FILL%\b(?:overdose|overdosing|OD)\b(?! (?:patients?|cases?|deaths?|rates?|reversal|kits?|"
           r"training|in|among|on (?:caffeine|coffee|sugar|cookies|candy|netflix|tv|chocolate|work|pizza|donuts)))",
           "overdose|overdosing|od"),
          (r"%SUBJ%%FILL%\b(?:look|looking|looked|google|googling|googled|calculate|calculating|calculated|search|"
           r"searching|searched|research|researching|researched|figure|figured|figuring) (?:up |out )?(?:the |a "
           r"|what )?(?:lethal|fatal) (?:dose|amount|dosage)s?\b(?!(?: of \w+)? for (?:a|the|my|our|this|that) "
           r"(?:patient|pt|consult|case|kid|child|toddler|peds|exam|boards|shelf|tox))",
           "lethal|fatal"),
          (r"\bhow many (?:of my |of these |of those |)(?:\w+ )?(?:pills|tablets|capsules) (?:it would|would it|"
           r"it'd) take\b",
           "many & pills|tablets|capsules"),
          (r"%SUBJ%%FILL%\b(?:wrote|write|writing|written|drafted|drafting|draft|started|finished|left) (?:a |the |my "
           r")?(?:suicide|goodbye) (?:note|letter|notes|letters|texts?|emails?)\b",
           "suicide|goodbye & note|letter|notes|letters|text|texts|email|emails"),
          (r"\b(?:have|made|got|making) a plan (?:to|for how to|for how I'?d) (?:end it|end my life|kill myself|die|"
           r"do it|not be here)\b"
           r"|\bI(?:'ve| have)? (?:%FILL%)?(?:have|made|got) a plan\b(?= *(?:[.;!]|$|and (?:a|the|I'?ve) (?:date|"
           r"means|time|picked|chosen)|now))"
           r"|\bI (?:%FILL%)?know (?:exactly )?how I(?:'d| would| will|'ll) do it\b",
           "plan|know & have|made|got|making|how"),
          (r"%SUBJ%%FILL%\b(?:bought|buy|got|have|ordered|tied|hid|hide|keep) (?:a |the |some )?(?:rope|noose)\b"
           r"(?! (?:for|to (?:climb|tie|hang (?:the|a|my) (?:hammock|swing|plants?)))|ladder|course)",
           "rope|noose"),
          (r"%SUBJ%%FILL%\b(?:keep|keeping|have|carry|carrying|hid|hide|hiding|stash|stashed|stashing) (?:a |the |"
           r"some |my |enough |extra )?(?:(?:bottle|stash|supply|handful) of )?(?:pills|meds|medications|tablets|"
           r"blades|razor blades|razors|a rope|rope)\b[^.;]{0,40}\bjust in case\b",
           "case & just"),
          (r"%SUBJ%%FILL%\b(?:give|giving|gave) (?:away )?(?:my|all my|all of my) (?:things|stuff|belongings|"
           r"possessions|cat|dog|plants)(?: away)?\b(?! (?:to (?:the|a) (?:donation|goodwill|thrift))|before "
           r"(?:the|my) move)",
           "give|giving|gave"),
          (r"\b(?:scared|afraid|terrified|frightened|worried) (?:of )?what I(?: might| could| would|'ll| will| may) do"
           r"(?: to myself)?\b(?! (?:to (?:him|her|them|my (?:attending|chief|program))|if I see|at work))",
           "what & scared|afraid|terrified|frightened|worried"),
          (r"%SUBJ%%FILL%\b(?:don'?t|do not|can'?t|cannot) trust myself\b(?! (?:to|with (?:the|a|my|this|that) "
           r"(?:patient|procedure|line|scalpel|central|intubation|diagnosis|dose|call|decision|pager|sign-?out|"
           r"budget|kids?)|on|in (?:the|this) (?:OR|ICU|unit|clinic)))",
           "trust & myself")),
    _rule("want_it_all_to_stop", RISK,
          (r"%SUBJ%%FILL%\b(?:want|need|wish|wanna|long for) (?:it all|everything|the pain|this pain|all of it|the "
           r"thoughts|the hurting|my life|life|all this) (?:to )?(?:just )?(?:stop|end|be over)\b(?! (?:for "
           r"(?:a|the) (?:minute|second|moment|day|week|weekend)|so I can))",
           "stop|end|over & want|need|wish|wanna|long")),
    # --- distress: acute panic, falling apart ------------------------------------------------------------------
    _rule("cant_breathe", DISTRESS,
          (r"%SUBJ%%FILL%\b(?:can'?t|cannot|could%NT%|couldn'?t) (?:breathe|catch my breath|get enough air)\b"
           r"(?= *(?:[.,;:!?]|$|and|or|but|anymore|any more|right now|now|properly|at all|every time|whenever|when "
           r"I|I))",
           "breathe|breath|air")),
    _rule("cant_stop_crying", DISTRESS,
          (r"%SUBJ%%FILL%\b(?:can'?t|cannot|couldn'?t|could%NT%) stop (?:shaking|crying|sobbing|trembling|panicking|"
           r"hyperventilating|screaming|throwing up|vomiting|thinking about dying|hearing)\b",
           "stop & can't|cant|cannot|couldn't|couldnt|could"),
          (r"%SUBJ%%FILL%\b(?:can'?t|cannot|couldn'?t|could%NT%) calm (?:myself )?down\b(?! (?:the|my|him|her|them))",
           "calm & down")),
    _rule("falling_apart", DISTRESS,
          (r"%SUBJ%%FILL%\b(?:drowning|sinking|suffocating|going under)\b(?! (?:in|under|into|beneath|with|from))",
           "drowning|sinking|suffocating|going & drowning|sinking|suffocating|under"),
          (r"%SUBJ%%FILL%\b(?:falling apart|coming apart|coming undone|unraveling|unravelling|crumbling|shattered|"
           r"spiraling|spiralling|breaking down|broken)\b"
           r"(?! (?:in (?:notes|charts|paperwork|work|emails|pages|documentation|admissions|debt|loans|tasks|"
           r"messages|laundry|inbox|the)|the|this|that|it|my|our|a|an|each|every|his|her|their|complex|up|into|"
           r"down|bones?|wrist|arm|leg|toe|finger|record|promise|ankle|nose|rule|rules|heart(?:ed)?|pager|phone|"
           r"laptop|English))(?!-)",
           "apart|undone|unraveling|unravelling|crumbling|shattered|spiraling|spiralling|breaking|broken")),
    _rule("broke_down", DISTRESS,
          (r"%SUBJ%%FILL%\b(?:broke|break|breaking) down(?= *(?:crying|in tears|in the|in front|sobbing|again|"
           r"completely|today|at work|during|after|on (?:the|my)|[.,;!?]|$))",
           "down & broke|break|breaking")),
    _rule("panic_attack", DISTRESS,
          (r"%SUBJ%%FILL%\b(?:having|had|have|get|getting|keep having|in the middle of|mid|in|through) (?:a |another "
           r"|my |multiple |constant |daily |nonstop |back-to-back |so many |two |three |four |several |more |the "
           r"worst |full |full-blown |massive |huge |bad |major |terrible |awful |(?:first|second|third|fourth) )*"
           r"panic attacks?\b",
           "panic")),
    _rule("breaking_point", DISTRESS,
          (r"%SUBJ%%FILL%\b(?:at|reached|hit|hitting|past|reaching|near|nearing) (?:(?:my|the|a|an|absolute) )*"
           r"(?:breaking point|end of my rope|end of my tether|rock bottom|lowest point|new low)\b"
           r"|\bat the end of my (?:rope|tether)\b",
           "breaking|lowest|rope|tether|bottom|low")),
    _rule("not_okay", DISTRESS,
          (r"%SUBJ%%FILL%(?:(?:'m|\bam) )?(?:really |just |honestly |so |truly |actually )*\bnot (?:really |doing )?"
           r"(?:okay|ok|alright|all right|fine|coping|doing well)\b(?! (?:with|to|that|if|for|about|when|on|in "
           r"(?:the|my|this)|at (?:the|this))\b)",
           "not & okay|ok|alright|right|fine|coping|well")),
    _rule("cant_take_it", DISTRESS,
          (r"%SUBJ%%FILL%\b(?:can'?t|cannot|can not) (?:do|take|handle|bear|stand|deal with|cope with|survive|face|"
           r"manage|keep doing|keep living|live) (?:this|it|any of (?:this|it)|this life|life|like this|another day|"
           r"one more day|much more|this pain|the pain|everything|anything)(?: anymore| any more| any longer| much "
           r"longer)\b",
           "can't|cant|cannot|not & anymore|more|longer"),
          (r"%SUBJ%%FILL%\b(?:can'?t|cannot|can not) (?:take it|cope|keep living like this|keep going like this|do "
           r"this anymore|handle anything)\b(?= *(?:anymore|any more|any longer|[.,;!?]|$))",
           "can't|cant|cannot|not & it|cope|this|anything"),
          (r"%SUBJ%%FILL%\b(?:can'?t|cannot) (?:function|get out of bed)\b(?! (?:before|without|until|at|on time|"
           r"early|when|if|with))",
           "function|bed & can't|cant|cannot"),
          (r"\b(?:don'?t|do not) (?:think|know if|know how|see how|know how (?:much )?long(?:er)?) I can (?:do this|"
           r"take (?:it|this|much more|any more)|keep going|handle (?:this|it)|last|hold on|survive this)\b(?= *(?:"
           r"like this|anymore|any more|any longer|much longer|[.,;!?]|$))",
           "can & think|know|see")),
    _rule("hopeless", DISTRESS,
          (r"%SUBJ%%FILL%\b(?:so |completely |totally |utterly |really |just |deeply )*(?:hopeless|worthless|empty "
           r"inside|numb inside|dead inside|trapped|helpless and hopeless)\b(?! (?:about (?:the|our|healthcare|"
           r"medicine|politics|the system|this (?:country|system))|in (?:a|the|this) (?:meeting|elevator|traffic|"
           r"call|lecture|conversation|car|queue|line)|at (?!times|night|this point)\w+|as a cook|with (?:directions|"
           r"names|dates|numbers|technology|computers)))"
           r"|\beverything (?:feels|seems|is) (?:so |completely |totally )?(?:hopeless|pointless|dark)\b",
           "hopeless|worthless|inside|trapped|pointless|dark"),
          (r"%SUBJ%%FILL%\bfeel(?:s|ing)? like I'?m (?:dying|having a heart attack|going to die|suffocating|"
           r"drowning)\b(?! (?:to|of|inside|here|laughing|in|on|for|over))",
           "like & dying|heart|die|suffocating|drowning"),
          (r"%SUBJ%%FILL%(?:'m|\bam) in (?:a |such a )?(?:really |very |so |pretty |super )?(?:dark|bad|terrible|"
           r"awful) (?:place|way|headspace|space)\b(?! (?:for|to))",
           "place|way|headspace|space & dark|bad|terrible|awful"),
          (r"%SUBJ%%FILL%\b(?:barely|hardly) (?:hanging on|holding on|holding it together|keeping it together|"
           r"functioning|surviving)\b(?! (?:this|the|to|on|at|in))"
           r"|\bhanging (?:on )?by a thread\b"
           r"|%SUBJ%%FILL%\b(?:losing|lost) the will to (?:live|go on|keep going)\b",
           "barely|hardly|thread|losing|lost")),
    _rule("crying_every_day", DISTRESS,
          (r"%SUBJ%%FILL%\b(?:cry|crying|sob|sobbing) (?:myself to sleep|every (?:day|night|morning|shift|single day|"
           r"single night)|all (?:the time|day|night)|nonstop|non-stop|uncontrollably|constantly|daily|in (?:the|my) "
           r"(?:car|bathroom|shower|stairwell|call room|supply closet|parking (?:lot|garage)|locker room|break room)|"
           r"between (?:patients|cases|every patient)|on (?:my|the) (?:way|drive|commute))\b"
           r"|%SUBJ%%FILL%\b(?:cried|sobbed) myself to sleep\b",
           "cry|crying|sob|sobbing|cried|sobbed")),
    _rule("need_help_now", DISTRESS,
          (r"%SUBJ%%FILL%\bneed (?:help|someone|somebody) (?:right now|now|tonight|immediately|asap|urgently)\b"
           r"|\b(?:someone|somebody|anyone|anybody),? (?:please )?help me(?= *(?:[.!]|$|please|I\b))"
           r"|\bplease,? (?:someone |somebody |anyone )?help me\b(?! (?:with|understand|find|figure|decide|choose|"
           r"pick|out with|learn|get))",
           "help & need|someone|somebody|anyone|anybody|please")),
)

_PARTS: tuple[tuple[_Rule, _Part], ...] = tuple((rule, part) for rule in _RULES for part in rule.parts)
_FULL_MASK: tuple[int, ...] = tuple((1 << len(part.keywords)) - 1 for _, part in _PARTS)


def _keyword_index() -> dict[str, list[tuple[int, int]]]:
    """word -> [(part number, bit of the keyword group the word belongs to)]."""
    index: dict[str, list[tuple[int, int]]] = {}
    for number, (_, part) in enumerate(_PARTS):
        for group, words in enumerate(part.keywords):
            for word in words:
                index.setdefault(word, []).append((number, 1 << group))
    return index


_INDEX = _keyword_index()
_KEYWORDS = frozenset(_INDEX)


def _candidate_parts(lowered_sentence: str) -> list[int]:
    """Numbers of the parts whose every keyword group has a word in the sentence, in rule order."""
    hits = _KEYWORDS.intersection(_TOKEN.findall(lowered_sentence))
    if not hits:
        return []
    seen: dict[int, int] = {}
    for word in hits:
        for number, bit in _INDEX[word]:
            seen[number] = seen.get(number, 0) | bit
    return sorted(number for number, bits in seen.items() if bits == _FULL_MASK[number])


# --- context that cancels a match ---------------------------------------------------------------------------

def _flexible(pattern: str) -> re.Pattern[str]:
    """A case-insensitive context pattern in which each space stands for any run of whitespace."""
    return re.compile(pattern.replace(" ", r"\s+"), re.IGNORECASE)


# Where a clause begins: negation and reporting frames only reach back to the nearest of these.
# "I just" opens a clause of its own in unpunctuated typing (a break of no width before it): in "i don't want to die
# exactly i just want to not exist" the negation ends before "i just".
_CLAUSE_BREAK = re.compile(r"[,;:()\[\]\n]|\s-\s|\b(?:but|and|though|although|yet|so|because|cause|cuz|while|whereas|"
                           r"except|however|plus|then)\b|(?=\bI just\b)", re.IGNORECASE)

# A negator governs what follows unless it negates a verb of knowing, telling or stopping: "I don't know why I
# want to die", "I haven't told anyone I cut myself", "I can't stop thinking about ending it" are still positives.
_NEGATOR = re.compile(
    r"(?:\b(?:not|never|no|nor|cannot|without|dont|cant|wont|didnt|wouldnt|couldnt|isnt|arent|wasnt|havent|"
    r"hasnt|shouldnt|aint)\b|n't\b)(?!\s+one\b)"
    r"(?!(?:\s+\w+)?\s+(?:know|knew|stop|stopped|help|tell|told|understand|remember|admit|admitted|care|hide|"
    r"explain|mention|mentioned|share|shared|sleep|slept|eat|ask|asked|talk|talked|lie|lying|even know|sure|"
    r"anyone|anybody|everyone|imagine|imagined|expected|thought I'?d|thought I would|believe|realise|realize|"
    r"realized|realised|getting better|better|matter|wonder|shake|escape|ignore|get rid of|get past|get over)\b)",
    re.IGNORECASE,
)

# Someone other than the writer is being reported: "my patient kept saying I want to die" is clinical.
_REPORTING = re.compile(
    r"\b(\w+(?:'(?!s\b)\w+)?)(?:'s)?\s+(?:(?:\w+ly|kept|keeps|keep|would|was|were|has|had|have|been|just|always|then|also|even|later|"
    r"finally|once|first|never|\w+n'?t)\s+)*(?:said|says|saying|"
    r"told|tells|telling|stated|states|stating|reported|reports|reporting|endorsed|endorses|endorsing|denied|"
    r"denies|denying|screamed|screams|yelled|yells|wrote|writes|texted|whispered|asked|asks|asking|repeated|"
    r"repeats|repeating|cried|admits|charted|documented|quoted|mumbled|muttered|explained|disclosed|shared)\b",
    re.IGNORECASE,
)
# What ends someone else's reported words, so that the writer speaks again ("she said it was fine and I want to
# die"); the "and" of "over and over" or "again and again" ends nothing.
_REPORTING_CONTINUES = re.compile(
    r"\b(?:(?<!\bover )(?<!\bagain )(?<!\bon )and(?!\s+(?:over|again|on)\b)|but|so|because|then)\b", re.IGNORECASE)

# Hypotheticals and screening questions: "if I ever feel suicidal I'll call", "she asked whether I had thoughts".
_HYPOTHETICAL = _flexible(
    r"\b(?:if|when|whenever|in case|should) (?:I )?(?:ever|someday|one day|start to|begin to)\b|\b(?:asked|asking|asks|"
    r"ask) (?:me |him |her |them |us |you |patients |everyone |each other )?(?:if|whether|how often|about)\b"
    r"|\bscreen(?:ed|ing|s)? (?:me |him |her |them |patients |everyone |for )|\bwhat (?:to|should I|do I) do if\b"
    r"|\bhow (?:to|do you|can you) (?:tell|know|recogni[sz]e|spot|ask)\b|\bsigns? (?:that|of)\b"
)

# A clearly distant past puts the feeling in the writer's history, not the present: "two years ago I was
# suicidal", "I used to self-harm in high school". Recent past ("last night I cut again") is still current.
_PAST = _flexible(
    r"\b(?:\w+ (?:years|decades) ago|a (?:long )?(?:time|while|few years|couple of years|year|decade) ago|used to|"
    r"back then|back in (?:the day|high school|college|med school|\d{4})|in high school|in college|as a "
    r"(?:teen|teenager|kid|child)|when I was (?:a kid|a child|younger|a teen|a teenager|in (?:high school|college)|\d{1,2}|\w+teen|twenty(?:[- ]\w+)?)|"
    r"long ago|at the time|in my (?:teens|twenties)|there (?:was|were) (?:a time|times|years|months|a (?:year|period|stretch)))\b"
)

# Everyday idioms of death and killing: "I'm dying to go home", "I'd kill for a nap", "this call schedule is
# murdering me", "dead on my feet". No rule fires on them, and the classifier, which reads a bag of token rows,
# scores "dying" and "kill" near the threshold whatever follows; detector.py does not let it speak on a sentence
# that carries one (the rules still do).
_IDIOM = _flexible(
    r"\b(?:dying (?:to (?:know|see|hear|get|go|try|eat|sleep|leave|meet|read|watch|tell|ask)|for (?:a|an|some|"
    r"coffee|sleep|food|the|my|this|that|it) ?)|to die for|(?:could|would|'d) (?:kill|murder) (?:for|someone|anyone)|"
    r"(?:is|are|was|were|it's|that's|been) (?:absolutely |literally |slowly |actually )?(?:killing|murdering) (?:me|us)|"
    r"(?:my|these) (?:feet|back|legs|knees) (?:are|is) killing me|dead (?:tired|on my feet)|"
    r"(?:the|be the) death of me|be the end of me|bored to death|scared me to death|killed it|killing it)\b"
)


def idiomatic(sentence: str) -> bool:
    """Whether a sentence carries an everyday idiom of dying or killing (the classifier is not asked about it)."""
    return bool(_IDIOM.search(sentence))


# --- sentences and quotations -------------------------------------------------------------------------------

# A sentence ends at . ! ? or a blank line; a single line break does not end one (hard-wrapped text), but it
# does break a clause.
_SENTENCE = re.compile(r"(?:[^.!?\n]|\n(?![ \t]*\n))+(?:[.!?]+[\"')\]]*|\n|$)")
_DOUBLE_QUOTED = re.compile(r'"([^"\n]{1,400})"')
# An opening single quote follows a non-word character, a closing one is not followed by a letter; apostrophes
# inside words ("I'm", "don't") are skipped.
_SINGLE_QUOTED = re.compile(r"(?<![\w'])'((?:[^'\n]|'(?=\w)){1,400}?)'(?![\w'])")
# The writer quoting their own thoughts keeps the quote: 'I keep telling myself "everyone would be better off"'.
_SELF_TALK = _flexible(
    r"(?:\bI (?:%FILL%)?(?:think|thinking|thought|tell myself|telling myself|told myself|say to myself|saying to "
    r"myself|said to myself|whisper(?:ed)? to myself|said|say|typed|texted|wrote|admitted|confessed|told "
    r"(?:him|her|them|my \w+(?: \w+)?))(?: to (?:him|her|them|myself))?"
    r"|\bmy (?:brain|head|mind|inner voice|thoughts?|inner critic) (?:%FILL%)?(?:keeps? |kept )?(?:saying|says|said|"
    r"telling me|tells me|told me|whispers?|whispering|repeating|repeats|screaming|screams|goes)"
    r"|\bvoices? in my head (?:keeps? |kept )?(?:saying|says|said|telling me|tells me))\s*[,:]?\s*$"
    .replace("%FILL%", _FILL)
)

# A continuation ("...and want to disappear", "...sat there thinking about jumping") needs the writer earlier in
# the sentence, with nobody else named in between.
# "me:" labels the writer's own line, as in "me: i'm fine. also me: googling painless ways to die".
_WRITER = re.compile(r"\bI\b|\b(?:im|ive)\b|\bme(?=\s*:)", re.IGNORECASE)
_OTHER_PERSON = re.compile(
    r"\b(?:he|she|they|him|her|them|his|their|patients?|pt|man|woman|kid|child|teen|friend|colleague|"
    r"co-?resident|intern|someone|somebody|mom|dad|mother|father|brother|sister|son|daughter|wife|husband|"
    r"partner)\b",
    re.IGNORECASE,
)

_LEVEL_RANK = {NONE: 0, DISTRESS: 1, RISK: 2}

# Kinds of subject found for a core phrase.
_BY_WRITER, _ELIDED, _CONTINUATION = "writer", "elided", "continuation"


def _mask_quotes(sentence: str) -> str:
    """Blanks out quoted speech (length preserved) unless the writer is quoting their own thoughts."""
    if '"' not in sentence and "'" not in sentence:
        return sentence
    chars = list(sentence)
    for pattern in (_DOUBLE_QUOTED, _SINGLE_QUOTED):
        for m in pattern.finditer(sentence):
            if _SELF_TALK.search(sentence[max(0, m.start() - 80):m.start()]):
                continue
            chars[m.start(1):m.end(1)] = " " * (m.end(1) - m.start(1))
    return "".join(chars)


def _walk_back_fillers(sentence: str, core_start: int) -> tuple[list[re.Match[str]], int, bool]:
    """Tokens of the line before core_start; how many of them precede the trailing fillers (those are
    tokens[i:]); and whether the tokens reach back to the start of the line."""
    line_start = sentence.rfind("\n", 0, core_start) + 1
    lo = max(line_start, core_start - 160)
    tokens = list(_TOKEN.finditer(sentence, lo, core_start))
    i = len(tokens)
    while i > 0:
        for n in (3, 2):
            if i >= n and tuple(t.group().lower() for t in tokens[i - n:i]) in _FILL_PHRASE_SET:
                i -= n
                break
        else:
            if tokens[i - 1].group().lower() not in _FILL_SET:
                break
            i -= 1
    return tokens, i, lo == line_start


def _subject(sentence: str, core_start: int) -> tuple[int, str] | None:
    """Where the subject of a core phrase starts and what kind it is, or None when it has no acceptable subject."""
    tokens, i, from_line_start = _walk_back_fillers(sentence, core_start)
    fillers = tokens[i:]
    first = fillers[0].start() if fillers else core_start
    for token in fillers:
        if token.group().lower() in _WRITER_TOKENS:
            return token.start(), _BY_WRITER
    if i == 0 and from_line_start:
        return first, _ELIDED  # nothing but fillers since the start of the sentence (or of a list line)
    for end in [t.start() for t in fillers] + [core_start]:  # "is it normal to | want to..." ends inside fillers
        tail = _SUBJECT_TAIL.search(sentence, max(0, end - 80), end)
        if tail:
            return tail.start(), _BY_WRITER
    if i > 0 and tokens[i - 1].group().lower() in _CONJUNCTIONS:
        return first, _CONTINUATION
    lead = _TOKEN.match(sentence, first)
    if lead and lead.group().lower() in _GERUNDS:
        return first, _CONTINUATION
    return None


def _clause_begin(sentence: str, start: int) -> int:
    """Where the clause containing position start begins."""
    begin = 0
    for m in _CLAUSE_BREAK.finditer(sentence):  # not cut at start: a break's lookahead may read past it
        if m.end() > start:
            break
        begin = m.end()
    return begin


def _clause_end(sentence: str, end: int) -> int:
    """Where the clause containing position end finishes."""
    m = _CLAUSE_BREAK.search(sentence, end)
    return m.start() if m else len(sentence)


def _starts_between(pattern: re.Pattern[str], sentence: str, begin: int, start: int) -> bool:
    """True when pattern matches starting in [begin, start); its lookaheads may read past start, so that
    "I never thought I'd..." can see the "I'd" that makes "never thought" an exception."""
    m = pattern.search(sentence, begin)
    return m is not None and m.start() < start


def _reported_by_other(sentence: str, start: int) -> bool:
    """True when the match sits inside speech attributed to someone else in the same sentence."""
    last = None
    for m in _REPORTING.finditer(sentence, 0, start):
        last = m
    if last is None or last.group(1).lower() in _WRITER_TOKENS:  # "I've told myself" is the writer
        return False
    return not _REPORTING_CONTINUES.search(sentence, last.end(), start)


def _someone_else_continues(sentence: str, start: int) -> bool:
    """For a continuation: True unless the writer appears earlier with nobody else named in between."""
    writers = list(_WRITER.finditer(sentence, 0, start))
    return not writers or bool(_OTHER_PERSON.search(sentence, writers[-1].end(), start))


def _cancelled(sentence: str, start: int, end: int) -> bool:
    """Negation, a hypothetical, the distant past, or someone else's words around [start, end)."""
    begin = _clause_begin(sentence, start)
    for pattern in (_NEGATOR, _HYPOTHETICAL, _PAST):
        if _starts_between(pattern, sentence, begin, start):
            return True
    if _PAST.search(sentence, start, _clause_end(sentence, end)):
        return True
    return _reported_by_other(sentence, start)


def _judged_core(sentence: str, m: re.Match[str]) -> tuple[int | None, bool]:
    """(where the phrase starts, subject included, when a core match has an acceptable subject and context, else
    None; whether its context rejected it). A match that only lacks a subject ("thinking abt ending things",
    "sorry for being a burden on u all") is not rejected by context unless someone else is named before it."""
    found = _subject(sentence, m.start())
    if found is None:
        return None, (_cancelled(sentence, m.start(), m.end())
                      or bool(_OTHER_PERSON.search(sentence, _clause_begin(sentence, m.start()), m.start())))
    start, kind = found
    if kind == _CONTINUATION and _someone_else_continues(sentence, start):
        return None, True
    return (None, True) if _cancelled(sentence, start, m.end()) else (start, False)


def _first_accepted(part: _Part, sentence: str) -> tuple[tuple[int, int] | None, bool]:
    """The first (start, end) of part in sentence that context does not cancel, and whether an earlier match was
    rejected by its context (negated, a hypothetical, the distant past, someone else's words or subject). A
    rejected match is retried one character on, so that an overlapping later reading still gets its chance."""
    rejected = False
    if part.free is not None:
        pos = 0
        while (m := part.free.search(sentence, pos)) is not None:
            if m.end() > m.start():
                if not _cancelled(sentence, m.start(), m.end()):
                    return (m.start(), m.end()), rejected
                rejected = True  # a free phrase is rejected only by context
            pos = m.start() + 1
    if part.core is not None:
        pos = 0
        while (m := part.core.search(sentence, pos)) is not None:
            if m.end() > m.start():
                start, by_context = _judged_core(sentence, m)
                if start is not None:
                    return (start, m.end()), rejected
                rejected = rejected or by_context
            pos = m.start() + 1
    return None, rejected


# A full stop after a title or a common abbreviation does not end a sentence: "Mr. Alvarez in bed 4 ..." is one.
_ABBREVIATION_END = re.compile(r"\b(?:Mr|Mrs|Ms|Mx|Dr|Drs|Prof|St|Sr|Jr|vs|etc|approx|e\.g|i\.e)\.$", re.IGNORECASE)


def _sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) pairs; offsets index into text."""
    out: list[tuple[int, str]] = []
    joined = False
    for m in _SENTENCE.finditer(text):
        if joined and out:
            start = out[-1][0]
            out[-1] = (start, text[start:m.end()])
        elif m.group().strip():
            out.append((m.start(), m.group()))
        joined = bool(out) and bool(_ABBREVIATION_END.search(out[-1][1].rstrip()))
    return out


@dataclass(frozen=True)
class RuleSentence:
    """What the rules say about one sentence: the rules that fired, their spans (offsets into the whole text),
    and whether some rule's phrase was there but context rejected it (negated, someone else's words or subject, a
    hypothetical, the distant past): the classifier is then not trusted on that sentence either. A phrase that
    only lacks a subject cancels nothing."""

    start: int
    text: str
    masked: str  # the sentence with other people's quoted speech blanked out
    rule_ids: tuple[str, ...]
    level: str
    spans: tuple[Span, ...]
    cancelled: bool


@functools.cache
def _respeller() -> respell.Respeller:
    return respell.Respeller(_KEYWORDS, minilm.load_tokenizer().get_vocab())


def _rule_sentence(text: str, offset: int, raw: str) -> RuleSentence:
    respelt, origin = _respeller().respell(raw)
    sentence = _mask_quotes(respelt)
    level, spans, ids, cancelled = NONE, [], [], False
    for number in _candidate_parts(respelt.lower()):
        rule, part = _PARTS[number]
        found, rejected = _first_accepted(part, sentence)
        if found is None:
            cancelled = cancelled or rejected
            continue
        start, end = _trim(sentence, *found)
        if origin is not None:  # back to what the member typed
            start, end = origin[start], origin[end - 1] + 1
        spans.append(Span(offset + start, offset + end, text[offset + start:offset + end]))
        ids.append(rule.name)
        if _LEVEL_RANK[rule.level] > _LEVEL_RANK[level]:
            level = rule.level
    return RuleSentence(offset, text[offset:offset + len(raw)], sentence, tuple(dict.fromkeys(ids)), level,
                        tuple(spans), cancelled and not spans)


def rule_sentences(text: str) -> list[RuleSentence]:
    """Every sentence of text, scored by the rules (quotes and offsets as in the text as written)."""
    normal = text.translate(_NORMALISE)
    return [_rule_sentence(text, offset, raw) for offset, raw in _sentences(normal)]


def strongest(levels: list[str]) -> str:
    return max(levels, key=_LEVEL_RANK.__getitem__, default=NONE)


def detect_rules(text: str) -> CrisisResult:
    """The rules alone: scores each sentence of text; the strongest level found wins."""
    found = [s for s in rule_sentences(text) if s.spans]
    spans = [span for s in found for span in s.spans]
    return CrisisResult(bool(spans), strongest([s.level for s in found]), merge(spans),
                        tuple(dict.fromkeys(i for s in found for i in s.rule_ids)))


def _trim(sentence: str, start: int, end: int) -> tuple[int, int]:
    """Drops leading punctuation and trailing whitespace from a span."""
    while start < end and not sentence[start].isalnum():
        start += 1
    while end > start and sentence[end - 1].isspace():
        end -= 1
    return start, end


def merge(spans: list[Span]) -> tuple[Span, ...]:
    """Sorted, with spans nested inside an earlier one dropped."""
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and span.end <= out[-1].end:
            continue
        out.append(span)
    return tuple(out)
