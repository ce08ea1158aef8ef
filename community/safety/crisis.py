"""Crisis-language detector: first-person suicidal thoughts, self-harm and acute distress, sentence by sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass

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

# Who is speaking. The writer ("I", "part of me"), an elided subject at the start of a sentence ("Want to
# disappear."), "is it normal to ...", or a conjunction continuing a clause (checked afterwards: the sentence must
# already have "I" in it, so "she is tired and wants..." stays out).
_SUBJ = (
    r"(?:\bI(?:'m|'ve|'d|'ll)?\b|\b(?:im|ive)\b|\bpart of me|^[\W_]*"
    r"|\b(?:is it|it's|it is|am I) (?:normal|okay|ok|weird|wrong|bad|crazy|selfish|strange) (?:to|that I|if I)\b"
    r"|\b(?:and|but|so|yet|or)\b)"
)

# Words that may sit between the subject and the core phrase: auxiliaries, hedges, intensifiers, verbs of wanting
# and thinking. Negators are deliberately absent, so "I would never hurt myself" cannot match at all. One word per
# alternative keeps the repetition unambiguous (no exponential backtracking).
_FILL_WORDS = (
    "am are is was were have has had would will do does did could might may should must keep keeps kept been be "
    "being get gets got getting feel feels feeling felt start started starting begin began like just really "
    "honestly truly seriously genuinely actually kinda sorta sometimes often still literally almost so very "
    "totally completely pretty quite constantly always now lately occasionally secretly quietly mostly also even "
    "finally increasingly fucking lowkey simply only too all again tbh ngl i im want wants wanted wanting wanna "
    "going gonna need needs plan planning tempted try tried trying urge urges to about of thinking thought think "
    "considering consider wish wished wishing hope hoping pray praying imagine imagining daydream daydreaming "
    "fantasize fantasizing fantasise fantasising dream dreaming wonder wondering half bit little "
    "a more most some nights tonight today right ready i'm i've i'd i'll id"
)
# Multi-word fillers; none is a sequence of single fillers, so there is still only one way to read a phrase.
_FILL_PHRASES = ("can't stop", "cant stop", "cannot stop", "couldn't stop", "kind of", "sort of", "a lot",
                 "all the time", "more and more", "these days", "at times", "at night", "every day")
_FILL = (r"(?:\s*\b(?:" + "|".join(p.replace(" ", r"\s+") for p in _FILL_PHRASES) + "|"
         + "|".join(_FILL_WORDS.split()) + r")\b)*\s*")

# "n't" with or without the apostrophe.
_NT = r"(?:n'?t\b| not\b)"

_MACROS = {"%SUBJ%": _SUBJ, "%FILL%": _FILL, "%NT%": _NT}


@dataclass(frozen=True)
class _Rule:
    name: str
    level: str
    pattern: re.Pattern[str]
    keywords: tuple[str, ...]  # lower-case substrings; the rule is only tried on sentences containing one
    inherent_negation: bool  # the phrase is itself negative ("don't want to live"), so skip the negation test


def _compile(template: str) -> re.Pattern[str]:
    """Turns a readable rule into a regex: " *" becomes \\s*, other spaces \\s+, macros are expanded."""
    source = template.replace(" *", r"\s*").replace(" ", r"\s+")
    for macro, body in _MACROS.items():
        source = source.replace(macro, body.replace(" ", r"\s+"))
    return re.compile(source, re.IGNORECASE)


def _rule(name: str, level: str, template: str, keywords: str, inherent: bool = False) -> _Rule:
    return _Rule(name, level, _compile(template), tuple(keywords.split("|")), inherent)


# Things that make a self-harm phrase accidental or figurative ("cut myself shaving", "hurt myself at the gym").
_ACCIDENT = (
    r"(?! (?:shaving|cooking|chopping|slicing|opening|lifting|running|skiing|playing|climbing|falling|tripping|"
    r"slipping|accidentally|by accident|by \w+ing|with (?:the|a|an) (?:scalpel|knife|needle|blade|suture|stapler|"
    r"trocar|scissors|saw)|on (?!purpose)|at (?:the|work|home|the gym)|in the (?:kitchen|OR|gym|lab)|while|"
    r"during|when|trying|more than|doing|over (?:this|that|it)|worrying|working|studying))"
)

# Topic words after "suicide": the sentence is about suicide as a subject, not the writer's own thoughts.
_TOPIC = (
    r"(?! (?:prevention|rates?|risk|statistics|stats|awareness|screening|assessments?|among|in (?:physicians|"
    r"residents|doctors|medicine|the|our|healthcare|medical)|research|data|studies|study|literature|notes? "
    r"(?:from|of|by)|training|protocols?|policy|policies|hotlines?|watch|attempts? (?:in|among|by)|of (?:a|my|"
    r"the|our|his|her|their|patients|residents|physicians|colleagues)|as a|cases?|deaths?|survivors?|"
    r"bereavement|postvention|lectures?|talks?|modules?|curriculum|epidemiology|crisis lines?))"
)

_RULES: tuple[_Rule, ...] = (
    # --- risk: wishing to be dead, to die, not to exist -------------------------------------------------------
    _rule("want_to_die", RISK,
          r"%SUBJ%%FILL%\b(?:want|wants|wanting|wanna|long|longing|ready|wish|need) (?:to )?(?:just )?"
          r"(?:die|be dead|stop living|stop existing|cease to exist|not exist|not be alive)\b"
          r"(?! (?:of|from|laughing|alone|happy|old|in my sleep at|peacefully at|with dignity|than))",
          "die|dead|living|exist|alive"),
    _rule("makes_me_want_to_die", RISK,
          r"\bmakes? me (?:just |really |honestly |sometimes )?want to (?:die|not exist|disappear forever)\b", "me want"),
    _rule("wish_dead", RISK,
          r"\bwish(?:ing|ed)?(?: that)? I (?:was|were|could be|would be|'d be|could just be) dead\b"
          r"|\bwish(?:ing|ed)?(?: that)? I (?:could|would|'d|might|could just|would just) (?:just )?(?:die|not "
          r"exist|stop existing|disappear|vanish|not wake up|never wake up)\b"
          r"|\bwish(?:ing|ed)?(?: that)? I (?:had never been born|'d never been born|was never born|were never born|"
          r"didn'?t exist|did not exist|wasn'?t alive|weren'?t alive|wasn'?t here anymore|weren'?t here anymore|"
          r"wasn'?t around anymore)",
          "wish"),
    _rule("rather_dead", RISK,
          r"\bI(?:'d| would)? (?:honestly |really |just )?rather (?:be dead|die|not exist|not be alive)\b"
          r"(?! than (?!(?:keep|go on|live|continue|feel|wake|face|be here|be alive)))",
          "rather"),
    _rule("better_off_dead", RISK,
          r"%SUBJ%%FILL%\bbetter off dead\b", "better off dead"),
    _rule("dont_want_to_live", RISK,
          r"%SUBJ%%FILL%(?:do%NT%|don'?t|dont|no longer|didn'?t|did%NT%) (?:really |even |honestly |actually |"
          r"just )?(?:want|wanna|feel like I want) to (?:"
          r"exist\b|be alive\b|live\b(?! (?:in|with|near|at|on|by|here|there|downtown|alone|together|close|so far|"
          r"far|like that|through (?:another|that)|off|under|paycheck|out of|abroad|with)\b)"
          r"|be here (?:anymore|any more|any longer|no more|on (?:this )?earth|in this world|at all)\b"
          r"|be on this earth\b|be in this world\b|be around (?:anymore|any more|any longer)\b"
          r"|wake up\b(?! (?:at|early|before|for|to|so|in the|on|every (?:day )?at|tomorrow at|at \d))"
          r"|keep (?:living|existing)\b|keep going\b(?! with)|go on\b(?! (?:vacation|call|leave|a|the|rounds|with|"
          r"nights|service))|continue\b(?! (?:with|the|this|my|in|on|to))|be me anymore\b|do life anymore\b)",
          "want|wanna", inherent=True),
    _rule("not_sure_want_to_live", RISK,
          r"\b(?:not sure|don'?t know if|do not know if|unsure if|don'?t know whether) I (?:even |really |still )?"
          r"want to (?:live|be alive|be here|keep going|exist|wake up)\b(?! (?:in|with|near|at|here|there))",
          "want to", inherent=True),
    _rule("disappear", RISK,
          r"%SUBJ%%FILL%\b(?:want|wanna|wanting|wants|wish|could|long|longing|need|would love to|dream of|dream about) "
          r"(?:to )?(?:just |simply |quietly |completely |permanently |forever )*(?:disappear|disappearing|vanish|"
          r"vanishing|fade away|evaporate|stop existing|cease to exist|not exist|not be alive|not be here "
          r"(?:anymore|any more|any longer))\b"
          r"(?! (?:for (?:a|the|an|like|\d|two|three|a few|some)|to|into (?:a|the|my)|on (?:vacation|holiday|a|the)|"
          r"until|till|after|from (?:this|the|that)|under|into my|back|behind|in (?:a|the|my) (?:hoodie|crowd|bed|"
          r"library|call room)|somewhere|off the grid for))",
          "disappear|vanish|fade|evaporat|exist|alive|be here"),
    # --- risk: suicide, ending one's life ---------------------------------------------------------------------
    _rule("kill_myself", RISK,
          r"%SUBJ%%FILL%\b(?:kill|killing|off|offing|hang|hanging|shoot|shooting|drown|drowning|poison|poisoning|"
          r"suffocate|suffocating|end|ending) myself\b"
          r"(?! (?:studying|working|trying|laughing|to (?:get|finish|make|meet|keep|study|prepare|impress|please|"
          r"pass|be)|for (?:\w+ing|not|this|that|nothing|them|a|the|my|our|these|those|it)|over|with (?:work|"
          r"overtime|extra|these|this|caffeine|coffee)|at (?:work|the gym|this job)|on (?:this|these|that|those|the)"
          r"|in the (?:gym|library)))"
          r"|\bkms\b",
          "myself|kms"),
    _rule("nearly_killed_myself", RISK,
          r"\b(?:almost|nearly|tried to|attempted to) kill(?:ed)? myself\b"
          r"(?! (?:on|falling|tripping|slipping|in the (?:gym|snow|ice|shower)|with (?:the|a|that|this) "
          r"(?:bike|car|ladder|knife)|skiing|climbing|running|laughing))",
          "myself"),
    _rule("end_my_life", RISK,
          r"\b(?:end|ending|ended|take|taking|took) my (?:own )?life\b(?! (?:into|in my own hands|back|seriously))"
          r"|\b(?:end|ending) it all\b",
          "my life|my own life|it all"),
    _rule("end_it", RISK,
          r"%SUBJ%%FILL%\b(?:end|ending) (?:it|things|everything)(?: all)?\b"
          r"(?! (?:with|between|early|on|at|by|here|there|for|after|before|soon|off|now and|today|tonight at|"
          r"politely|gracefully|nicely|well|there|in the|once|properly))",
          "end"),
    _rule("suicidal", RISK,
          r"%SUBJ%%FILL%\b(?:passively |actively |a bit |a little |kind of |kinda |so |very |really )*suicidal\b"
          r"(?= *(?:[.,;:!?)\]-]|$|and|but|again|lately|today|tonight|right now|now|for|since|these|this|most|"
          r"every|all|sometimes|at times|thoughts|ideation|feelings|urges|yesterday|last|because|when|after|"
          r"before|though|or|like|ideas|myself|too|as well|honestly|tbh|ngl|lol|I))",
          "suicid"),
    _rule("suicidal_thoughts", RISK,
          r"%SUBJ%%FILL%\b(?:having|had|have|get|getting|experiencing|experienced|dealing with|struggling with|"
          r"struggle with|fighting|battling|fight|battle|hit with|plagued by|haunted by|back to|with|had some|"
          r"keep having|been having) (?:some |a lot of |many |lots of |constant |daily |frequent |these |more |"
          r"those |the |intrusive |dark |passive |active |recurring |occasional |serious |real |actual |my )*"
          r"(?:suicidal (?:thoughts|ideation|ideations|feelings|urges|ideas)|SI\b|thoughts (?:of|about) "
          r"(?:suicide|killing myself|dying|ending (?:it|my life|things)|not (?:being here|existing|waking up)|"
          r"hurting myself|self[- ]?harm|harming myself|cutting|overdosing|jumping))",
          "suicid|si|thought"),
    _rule("my_suicidal_thoughts", RISK,
          r"\bmy (?:own )?(?:passive |active )?(?:suicidal (?:thoughts|ideation|feelings|urges)|SI\b|"
          r"suicide attempts?\b|(?:last |first |previous |prior |recent )(?:suicide )?attempt\b|"
          r"urges? to (?:cut|self[- ]?harm|hurt myself|burn myself|die|end it)|self[- ]?harm\b(?! (?:patients?|"
          r"lecture|talk|research|study|module|assessments?|training)))"
          r"|^[\W_]*(?:the )?(?:suicidal thoughts|SI|urges? to (?:cut|self[- ]?harm)) (?:are|is|have been) back\b",
          "my|back"),
    _rule("attempted", RISK,
          r"%SUBJ%%FILL%\b(?:attempted|tried|survived|made) (?:a |an |my )?(?:suicide attempt|suicide|attempt on "
          r"my (?:own )?life)\b" + _TOPIC,
          "suicid|attempt on my"),
    _rule("think_about_dying", RISK,
          r"%SUBJ%%FILL%\b(?:think|thinking|thought|thoughts|fantasi[sz]e|fantasi[sz]ing|dream|dreaming|obsess|"
          r"obsessing|ruminate|ruminating|wonder|wondering|google|googled|googling|research|researching|"
          r"researched|look|looking|looked|searched|searching|planning|plan|planned|imagine|imagining|picture|"
          r"picturing) (?:a lot |so much |constantly |all the time |more and more |again |daily |every day )?"
          r"(?:about |of |into |up |out )?(?:how I would |how I'd |how to |ways to |ways of )?"
          r"(?:suicide\b" + _TOPIC + r"|dying\b(?! (?:patients?|people|persons?|man|woman|kids?|child|children|"
          r"with|well|at|in|process|moments?|breath|words|wish|declaration|languages?|art|industry|days of|to)\b)"
          r"|being dead\b|killing myself\b|kill myself\b|ending (?:it|it all|my life|things)\b(?! with)|end my life\b"
          r"|not (?:being (?:here|alive|around)|existing|waking up)\b|my own (?:death|funeral|suicide)\b"
          r"|my funeral\b|who would come to my funeral\b|jumping(?= *(?:[.,;!?]|$|off|from|in front|again))"
          r"|overdosing\b|overdose\b(?! (?:patients?|cases?|deaths?|rates?|reversal|kits?|training|in|among))"
          r"|driving (?:into|off)\b|crashing my car\b|hanging myself\b|disappearing (?:forever|for good)\b"
          r"|hurting myself\b|cutting myself\b|harming myself\b|self[- ]?harm(?:ing)?\b(?! (?:patients?|in|among|"
          r"research|rates?|screening|assessments?|risk))|do(?:ing)? it\b(?= *(?:[.,;!?]|$|tonight|soon|this)))",
          "suicid|dying|dead|kill|end|not |funeral|jump|overdos|driving|crash|hang|disappear|myself|harm|do it|"
          "doing it"),
    # --- risk: self-harm ---------------------------------------------------------------------------------------
    _rule("self_harm_act", RISK,
          r"%SUBJ%%FILL%\b(?:cut|cutting|burn|burning|burned|burnt|hurt|hurting|harm|harming|scratch|scratching|"
          r"starve|starving|punish|punishing|bruise|bruising) myself\b" + _ACCIDENT
          + r"|%SUBJ%%FILL%\b(?:self[- ]?harm|self[- ]?harming|self[- ]?harmed)\b(?! (?:patients?|in|among|"
          r"research|rates?|screening|assessments?|risk|lecture|talk|module))"
          r"|%SUBJ%%FILL%\b(?:cutting|cut) again\b"
          r"|%SUBJ%%FILL%\bcutting\b(?= *(?:[.,;!?]|$|again|more|lately|at night|for (?:a|months|weeks|years|\d)|"
          r"since|on my|my (?:arms?|legs?|thighs?|wrists?|skin|stomach)))"
          r"|%SUBJ%%FILL%\b(?:cut|cutting|slit|slitting|slash|slashing|burn|burning|burned|scratch|scratching) my "
          r"(?:own )?(?:arms?|wrists?|thighs?|legs?|skin|stomach|forearms?|hips?)\b" + _ACCIDENT +
          r"|%SUBJ%%FILL%\b(?:relapsed|relapse|relapsing|slipped) (?:on|into|with|in|back into) "
          r"(?:self[- ]?harm|cutting|hurting myself)\b",
          "myself|self|cut|relaps|slipped"),
    _rule("urge_self_harm", RISK,
          r"\b(?:I|I've|I'm|my)\b%FILL%(?:(?:have|had|get|getting|feel|feeling|fight|fighting|resist|"
          r"resisting|struggling with|having) )?(?:(?:the|an|these|those|strong|such|constant|an overwhelming) )*urges? to "
          r"(?:cut|self[- ]?harm|hurt myself|burn myself|harm myself|die|end it|kill myself|disappear)\b",
          "urge"),
    # --- risk: burden and "better off without me" -------------------------------------------------------------
    _rule("better_off_without_me", RISK,
          r"\bbetter off (?:without me|if I (?:were|was|wasn'?t|weren'?t|'m|am|died|disappeared|just|never|"
          r"didn'?t)\b|with me (?:gone|dead)|when I'?m gone|once I'?m gone)"
          r"|\b(?:easier|better|simpler|a relief) (?:for (?:everyone|everybody|them|all of them|my family|my kids|"
          r"my team|my partner|my wife|my husband|people) )?(?:if|when) I (?:was |were |'m |am |just |finally )*"
          r"(?:dead|gone|died|didn'?t exist|wasn'?t here|weren'?t here|wasn'?t around|weren'?t around|disappeared|"
          r"stopped existing|were to die|never woke up|didn'?t wake up|wasn'?t alive|killed myself)\b",
          "better off|if i|when i"),
    _rule("burden", RISK,
          r"%SUBJ%%FILL%\b(?:a|just a|such a|nothing but a|only a|the) (?:huge |massive |total |complete |"
          r"constant |giant )?burden\b(?! (?:of|on the (?:system|schedule)|for the (?:program|schedule)))",
          "burden"),
    _rule("no_one_would_miss", RISK,
          r"\b(?:no ?one|nobody|noone|no-one) (?:would|will|'d|'ll|is going to|is gonna)(?: even| really| actually| "
          r"ever| truly)* (?:miss me|notice (?:if|when) I(?:'m| was| were)? (?:gone|dead|disappeared|died)|notice "
          r"I(?:'m| was)? gone|care (?:if|when) I (?:died|was gone|were gone|disappeared|killed myself|was dead|"
          r"were dead|didn'?t wake up))"
          r"|\bwould (?:anyone|anybody) (?:even |really |actually )?(?:miss me|notice|care)(?: if I (?:died|"
          r"disappeared|was gone|were gone|was dead|wasn'?t here|weren'?t here|stopped existing|killed myself))?"
          r"(?= *(?:[?.!]|$|if I (?:died|disappeared|was gone|were gone|was dead|wasn'?t here|weren'?t here)))",
          "miss me|notice|care", inherent=True),
    _rule("nothing_to_live_for", RISK,
          r"\b(?:nothing|no reason|no one|nobody|noone) (?:left )?to live for\b"
          r"|\bno (?:reason|point|purpose) (?:to|in|of|for) (?:living|live|being alive|going on|keep(?:ing)? going|"
          r"existing|carry(?:ing)? on|wak(?:e|ing) up|me to (?:live|be here|stay))\b"
          r"|\b(?:what'?s|what is|whats) the point (?:of|in) (?:living|being alive|going on|waking up|existing|"
          r"life|staying alive|me being here)\b"
          r"|\b(?:my )?life (?:is ?n'?t|is not|isn'?t|doesn'?t feel|no longer feels|no longer seems|does not feel|"
          r"doesn'?t seem|does not seem|is no longer|stopped being|not) worth living\b"
          r"|\bdon'?t see the point (?:of|in) (?:living|being alive|going on|anything anymore|life|waking up|"
          r"staying alive)\b",
          "live|living|alive|point|worth|going on|carry|wak|exist|life", inherent=True),
    _rule("no_way_out", RISK,
          r"\b(?:there'?s|there is|I (?:%FILL%)?(?:see|find|have)|see|seeing) no (?:other )?way out\b"
          r"(?! of (?:the|this|my|that) (?:contract|rotation|lease|call|meeting|schedule|parking))"
          r"|\bcan'?t (?:see|find) (?:a|any) (?:way out|light at the end|future for myself)\b"
          r"|\bI (?:%FILL%)?(?:can'?t|cannot) (?:go on|carry on)\b(?= *(?:like this|anymore|any more|any longer|"
          r"living|with life|much longer|[.,;!?]|$))"
          r"|\b(?:don'?t|do not) (?:think|know if|know how|see how) I can (?:go on|carry on|keep living|stay alive)\b",
          "way out|go on|carry on|light at|future|keep living|stay alive", inherent=True),
    _rule("wake_up", RISK,
          r"\b(?:wish|hope|pray|praying|hoping|wishing)(?: that)? I (?:%FILL%)?(?:wouldn'?t|would not|won'?t|will not|"
          r"don'?t|do not|didn'?t|did not|never|could (?:just )?(?:not|never)) wake up\b"
          r"|%SUBJ%%FILL%\b(?:fall|go|drift|falling|going|drifting) (?:to sleep|asleep|off) and (?:just )?"
          r"(?:never|not|don'?t|not ever|never ever) wake (?:up|back up)\b"
          r"|\bwouldn'?t (?:mind|care) if I (?:didn'?t|did not|never|don'?t) wake up\b"
          r"|\bwouldn'?t (?:mind|care) (?:if I )?(?:died|dying|got hit|getting hit|crashed|crashing|if (?:a|the) "
          r"(?:bus|truck|car|train) hit me|if I got into an? (?:accident|crash)|if something happened to me|if I "
          r"(?:just )?(?:didn'?t (?:exist|make it)|never came back|disappeared))\b",
          "wake|wouldn't|wouldnt", inherent=True),
    _rule("hope_for_accident", RISK,
          r"%SUBJ%%FILL%\b(?:hope|hoping|pray|praying|wish|wishing|fantasi[sz]e|fantasi[sz]ing|dream|dreaming|"
          r"imagine|imagining|secretly hope) (?:about |of |for |that )?(?:I (?:get|got|could get|would get|'d get|"
          r"might get) (?:hit|into (?:a|an) (?:accident|crash)|in (?:a|an) (?:accident|crash)|sick enough to die|a "
          r"fatal)|(?:a|the) (?:bus|car|truck|train|plane) (?:hits|would hit|hit|will hit|crashes|would crash) "
          r"(?:me|with me)|(?:a|an|some) (?:fatal )?(?:car )?(?:accident|crash)\b|getting hit by|my (?:car|plane) "
          r"(?:crashes|would crash|goes off|would go off)|not making it home)",
          "hit|accident|crash|making it home"),
    _rule("method", RISK,
          r"%SUBJ%%FILL%\b(?:drive|driving|swerve|swerving|steer|steering|crash|crashing) (?:my car )?(?:into|off|in "
          r"front of) (?:a |the |an |oncoming )*(?:traffic|tree|wall|bridge|pole|barrier|overpass|median|river|semi|"
          r"truck|road|highway|cliff|guardrail|divider|lake|ravine)\b"
          r"|%SUBJ%%FILL%\b(?:jump|jumping|step|stepping|throw myself|throwing myself|walk|walking) (?:off|from|in "
          r"front of|into) (?:the |a |an |this |that |my |our )?(?:hospital |parking )?(?:roof|rooftop|bridge|"
          r"building|balcony|parking (?:garage|structure|deck|lot roof)|garage|train|subway|bus|traffic|window|"
          r"ledge|cliff|helipad|overpass|river|car|lake|ocean|sea|tracks)\b"
          r"|%SUBJ%%FILL%\b(?:stockpile|stockpiling|stockpiled|hoard|hoarding|hoarded|save|saving|saved|collect|"
          r"collecting|collected|stash|stashing|stashed|count|counting|counted) (?:up )?(?:my |some |all my |all of "
          r"my |the |a bunch of |enough |extra )?(?:pills|meds|medications|insulin|tablets|oxys?|benzos|opioids|"
          r"sleeping pills|propofol|potassium|fentanyl)\b"
          r"|%SUBJ%%FILL%\b(?:take|taking|swallow|swallowing|down|downing|overdose on|OD on) (?:all|every one|the "
          r"whole bottle|a whole bottle|the rest) (?:of )?(?:my |the |those |these )?(?:pills|meds|medications|"
          r"tablets|bottle)\b"
          r"|%SUBJ%%FILL%\b(?:overdose|overdosing|OD)\b(?! (?:patients?|cases?|deaths?|rates?|reversal|kits?|"
          r"training|in|among|on (?:caffeine|coffee|sugar|cookies|candy|netflix|tv|chocolate|work|pizza|donuts)))"
          r"|%SUBJ%%FILL%\b(?:look|looking|looked|google|googling|googled|calculate|calculating|calculated|search|"
          r"searching|searched|research|researching|researched|figure|figured|figuring) (?:up |out )?(?:the |a "
          r"|what )?(?:lethal|fatal) (?:dose|amount|dosage)s?\b(?!(?: of \w+)? for (?:a|the|my|our|this|that) "
          r"(?:patient|pt|consult|case|kid|child|toddler|peds|exam|boards|shelf|tox))"
          r"|\bhow many (?:of my |of these |of those |)(?:pills|tablets|\w+ pills) (?:it would|would it|it'd) take\b"
          r"|%SUBJ%%FILL%\b(?:wrote|write|writing|written|drafted|drafting|draft|started|finished|left) (?:a |the |my "
          r")?(?:suicide|goodbye) (?:note|letter|notes|letters|texts?|emails?)\b"
          r"|\b(?:have|made|got|making) a plan (?:to|for how to|for how I'?d) (?:end it|end my life|kill myself|die|"
          r"do it|not be here)\b"
          r"|\bI (?:%FILL%)?know (?:exactly )?how I(?:'d| would| will|'ll) do it\b"
          r"|%SUBJ%%FILL%\b(?:give|giving|gave) (?:away )?(?:my|all my|all of my) (?:things|stuff|belongings|"
          r"possessions|cat|dog|plants)(?: away)?\b(?! (?:to (?:the|a) (?:donation|goodwill|thrift))|before "
          r"(?:the|my) move)"
          r"|\b(?:scared|afraid|terrified|frightened|worried) (?:of )?what I (?:might|could|would|'ll|will|may) do"
          r"(?: to myself)?\b(?! (?:to (?:him|her|them|my (?:attending|chief|program))|if I see|at work))"
          r"|%SUBJ%%FILL%\b(?:don'?t|do not|can'?t|cannot) trust myself\b(?! (?:to|with (?:the|a|my|this|that) "
          r"(?:patient|procedure|line|scalpel|central|intubation|diagnosis|dose|call|decision|pager|sign-?out|"
          r"budget|kids?)|on|in (?:the|this) (?:OR|ICU|unit|clinic)))",
          "into|off|front|pills|meds|medication|insulin|tablets|oxy|benzo|opioid|propofol|potassium|fentanyl|bottle|"
          "overdos|od|lethal|fatal|how many|note|letter|text|email|plan|do it|things|stuff|belonging|possession|"
          "cat|dog|plant|what i|trust myself"),
    _rule("want_it_all_to_stop", RISK,
          r"%SUBJ%%FILL%\b(?:want|need|wish|wanna|long for) (?:it all|everything|the pain|this pain|all of it|the "
          r"thoughts|the hurting|my life|life|all this) (?:to )?(?:just )?(?:stop|end|be over)\b(?! (?:for "
          r"(?:a|the) (?:minute|second|moment|day|week|weekend)|so I can))",
          "stop|end|over"),
    # --- distress: acute panic, falling apart ------------------------------------------------------------------
    _rule("cant_breathe", DISTRESS,
          r"%SUBJ%%FILL%\b(?:can'?t|cannot|could%NT%|couldn'?t) (?:breathe|catch my breath|get enough air)\b"
          r"(?! (?:in|through|with|under|when|because|around|while|for|during|if|from)\b)",
          "breath|air"),
    _rule("cant_stop_crying", DISTRESS,
          r"%SUBJ%%FILL%\b(?:can'?t|cannot|couldn'?t|could%NT%) stop (?:shaking|crying|sobbing|trembling|panicking|"
          r"hyperventilating|screaming|throwing up|vomiting|thinking about dying|hearing)\b",
          "stop"),
    _rule("falling_apart", DISTRESS,
          r"%SUBJ%%FILL%\b(?:falling apart|coming apart|coming undone|unraveling|unravelling|crumbling|shattered|"
          r"spiraling|spiralling|drowning|sinking|suffocating|going under|breaking down|broken)\b"
          r"(?! (?:in (?:notes|charts|paperwork|work|emails|pages|documentation|admissions|debt|loans|tasks|"
          r"messages|laundry|inbox|the)|the|this|that|it|my|our|a|an|each|every|his|her|their|complex|up|into|"
          r"down|bones?|wrist|arm|leg|toe|finger|record|promise|ankle|nose|rule|rules|heart(?:ed)?|pager|phone|"
          r"laptop|English))(?!-)",
          "apart|undone|unravel|crumbl|shatter|spiral|drown|sink|suffocat|going under|breaking down|broken"),
    _rule("broke_down", DISTRESS,
          r"%SUBJ%%FILL%\b(?:broke|break|breaking) down(?= *(?:crying|in tears|in the|in front|sobbing|again|"
          r"completely|today|at work|during|after|on (?:the|my)|[.,;!?]|$))",
          "broke down|break down|breaking down"),
    _rule("panic_attack", DISTRESS,
          r"%SUBJ%%FILL%\b(?:having|had|have|get|getting|keep having|in the middle of|mid|in|through) (?:a |another |my "
          r"|multiple |constant |daily |nonstop |back-to-back |so many |two |three |four |several |more |the worst "
          r"|(?:first|second|third|fourth) )*panic attacks?\b",
          "panic"),
    _rule("breaking_point", DISTRESS,
          r"%SUBJ%%FILL%\b(?:at|reached|hit|hitting|past|reaching|near|nearing) (?:my|the|a|an|absolute) (?:absolute "
          r")?(?:breaking point|end of my rope|end of my tether|rock bottom|lowest point|new low)\b"
          r"|\bat the end of my (?:rope|tether)\b",
          "breaking point|rope|tether|rock bottom|lowest point|new low"),
    _rule("not_okay", DISTRESS,
          r"%SUBJ%%FILL%(?:(?:'m|am) )?(?:really |just |honestly |so |truly |actually )*not (?:really |doing )?"
          r"(?:okay|ok|alright|all right|fine|coping|doing well)\b(?! (?:with|to|that|if|for|about|when|on|in "
          r"(?:the|my|this)|at (?:the|this))\b)"
          r"|%SUBJ%%FILL%\b(?:not|n't) coping\b(?! with (?:the|this|my) (?!anymore))",
          "ok|alright|all right|fine|coping|doing well"),
    _rule("cant_take_it", DISTRESS,
          r"%SUBJ%%FILL%\b(?:can'?t|cannot|can not) (?:do|take|handle|bear|stand|deal with|cope with|survive|face|"
          r"manage|keep doing|keep living|live) (?:this|it|any of (?:this|it)|this life|life|like this|another day|"
          r"one more day|much more|this pain|the pain|everything|anything)(?: anymore| any more| any longer| much "
          r"longer)\b"
          r"|%SUBJ%%FILL%\b(?:can'?t|cannot|can not) (?:take it|cope|keep living like this|keep going like this|do "
          r"this anymore|handle anything)\b(?= *(?:anymore|any more|any longer|[.,;!?]|$))"
          r"|%SUBJ%%FILL%\b(?:can'?t|cannot) (?:function|get out of bed)\b(?! (?:before|without|until|at|on time|"
          r"early|when|if|with))"
          r"|\b(?:don'?t|do not) (?:think|know if|know how|see how) I can (?:do this|take (?:it|this|much more|any "
          r"more)|keep going|handle (?:this|it))\b(?= *(?:like this|anymore|any more|any longer|much longer|"
          r"[.,;!?]|$))",
          "can|do not|don't|dont"),
    _rule("hopeless", DISTRESS,
          r"%SUBJ%%FILL%\b(?:so |completely |totally |utterly |really |just |deeply )*(?:hopeless|worthless|empty "
          r"inside|numb inside|dead inside|trapped|helpless and hopeless)\b(?! (?:about (?:the|our|healthcare|"
          r"medicine|politics|the system|this (?:country|system))|in (?:a|the|this) (?:meeting|elevator|traffic|"
          r"call|lecture|conversation|car|queue|line)|at (?:chess|cooking|this game|golf|math|spelling)|as a cook))"
          r"|\beverything (?:feels|seems|is) (?:so |completely |totally )?(?:hopeless|pointless|dark)\b"
          r"|%SUBJ%%FILL%\bfeel(?:s|ing)? like I'?m (?:dying|having a heart attack|going to die|suffocating|"
          r"drowning)\b(?! (?:to|of|inside|here|laughing|in|on|for|over))"
          r"|%SUBJ%%FILL%(?:'m|am) in (?:a |such a )?(?:really |very |so |pretty |super )?(?:dark|bad|terrible|awful) "
          r"(?:place|way|headspace|space)\b(?! (?:for|to))"
          r"|%SUBJ%%FILL%\b(?:barely|hardly) (?:hanging on|holding on|holding it together|keeping it together|"
          r"functioning|surviving)\b(?! (?:this|the|to|on|at|in))"
          r"|\bhanging (?:on )?by a thread\b"
          r"|%SUBJ%%FILL%\b(?:losing|lost) the will to (?:live|go on|keep going)\b",
          "hopeless|worthless|inside|trapped|pointless|dark|dying|heart attack|die|suffocat|drown|bad|terrible|"
          "awful|barely|hardly|thread|will to"),
    _rule("crying_every_day", DISTRESS,
          r"%SUBJ%%FILL%\b(?:cry|crying|sob|sobbing) (?:myself to sleep|every (?:day|night|morning|shift|single day|"
          r"single night)|all (?:the time|day|night)|nonstop|non-stop|uncontrollably|constantly|daily|in the (?:car|"
          r"bathroom|shower|stairwell|call room|supply closet|parking (?:lot|garage)|locker room|break room)|"
          r"between (?:patients|cases)|on (?:my|the) (?:way|drive|commute))\b"
          r"|%SUBJ%%FILL%\b(?:cried|sobbed) myself to sleep\b",
          "cry|sob|cried"),
    _rule("need_help_now", DISTRESS,
          r"%SUBJ%%FILL%\bneed (?:help|someone|somebody) (?:right now|now|tonight|immediately|asap|urgently)\b"
          r"|\b(?:someone|somebody|anyone|anybody),? (?:please )?help me(?= *(?:[.!]|$|please|I\b))"
          r"|\bplease,? (?:someone |somebody |anyone )?help me\b(?! (?:with|understand|find|figure|decide|choose|"
          r"pick|out with|learn|get))",
          "help"),
)

# --- context that cancels a match ---------------------------------------------------------------------------

# Where a clause begins: negation and reporting frames only reach back to the nearest of these.
_CLAUSE_BREAK = re.compile(r"[,;:()\[\]]|\s-\s|\b(?:but|and|though|although|yet|so|because|cause|cuz|while|whereas|"
                           r"except|however|plus|then)\b", re.IGNORECASE)

# A negator governs what follows unless it negates a verb of knowing, telling or stopping: "I don't know why I
# want to die", "I haven't told anyone I cut myself", "I can't stop thinking about ending it" are still positives.
_NEGATOR = re.compile(
    r"(?:\b(?:not|never|no|nor|cannot|without|dont|cant|wont|didnt|wouldnt|couldnt|isnt|arent|wasnt|havent|"
    r"hasnt|shouldnt|aint)\b|n't\b)(?!\s+one\b)"
    r"(?!(?:\s+\w+)?\s+(?:know|knew|stop|stopped|help|tell|told|understand|remember|admit|admitted|care|hide|"
    r"explain|mention|mentioned|share|shared|sleep|slept|eat|ask|asked|talk|talked|lie|lying|even know|sure|"
    r"anyone|anybody|everyone|imagine|imagined|expected|thought I'?d|thought I would|believe|realise|realize|"
    r"realized|realised|getting better|better|matter|wonder)\b)",
    re.IGNORECASE,
)

# Someone other than the writer is being reported: "my patient kept saying I want to die" is clinical.
_REPORTING = re.compile(
    r"\b(\w+)(?:'s)?\s+(?:(?:\w+ly|kept|keeps|keep|would|was|were|has|had|have|been|just|always|then|also|even|later|"
    r"finally|once|first|never|\w+n'?t)\s+)*(?:said|says|saying|"
    r"told|tells|telling|stated|states|stating|reported|reports|reporting|endorsed|endorses|endorsing|denied|"
    r"denies|denying|screamed|screams|yelled|yells|wrote|writes|texted|whispered|asked|asks|asking|repeated|"
    r"repeats|repeating|cried|admits|charted|documented|quoted|mumbled|muttered|explained|disclosed|shared)\b",
    re.IGNORECASE,
)
_REPORTING_CONTINUES = re.compile(r"\b(?:and|but|so|because|then)\b", re.IGNORECASE)
_SELF = {"i", "im", "ive"}

# Hypotheticals and screening questions: "if I ever feel suicidal I'll call", "she asked whether I had thoughts".
_HYPOTHETICAL = re.compile(
    r"\b(?:if|when|whenever|in case|should) (?:I )?(?:ever|someday|one day|start to|begin to)\b|\b(?:asked|asking|asks|"
    r"ask) (?:me |him |her |them |us |you |patients |everyone |each other )?(?:if|whether|how often|about)\b"
    r"|\bscreen(?:ed|ing|s)? (?:me |him |her |them |patients |everyone |for )|\bwhat (?:to|should I|do I) do if\b"
    r"|\bhow (?:to|do you|can you) (?:tell|know|recogni[sz]e|spot|ask)\b|\bsigns? (?:that|of)\b",
    re.IGNORECASE,
)

# --- sentences and quotations -------------------------------------------------------------------------------

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"')\]]*|\n|$)")
_DOUBLE_QUOTED = re.compile(r'"([^"\n]{1,400})"')
# An opening single quote follows a non-word character, a closing one is not followed by a letter; apostrophes
# inside words ("I'm", "don't") are skipped.
_SINGLE_QUOTED = re.compile(r"(?<![\w'])'((?:[^'\n]|'(?=\w)){1,400}?)'(?![\w'])")
# The writer quoting their own thoughts keeps the quote: 'I keep telling myself "everyone would be better off"'.
_SELF_TALK = re.compile(
    r"(?:\bI (?:%s)?(?:think|thinking|thought|tell myself|telling myself|told myself|say to myself|saying to "
    r"myself|said to myself|whisper(?:ed)? to myself|said|say|typed|texted|wrote|admitted|confessed|told "
    r"(?:him|her|them|my \w+(?: \w+)?))(?: to (?:him|her|them|myself))?"
    r"|\bmy (?:brain|head|mind|inner voice|thoughts?|inner critic) (?:%s)?(?:keeps? |kept )?(?:saying|says|said|"
    r"telling me|tells me|told me|whispers?|whispering|repeating|repeats|screaming|screams|goes)"
    r"|\bvoices? in my head (?:keeps? |kept )?(?:saying|says|said|telling me|tells me))\s*[,:]?\s*$"
    % (_FILL, _FILL),
    re.IGNORECASE,
)

# A match whose subject is a conjunction ("...and want to disappear") needs the writer earlier in the sentence.
_CONJ_START = re.compile(r"(?:and|but|so|yet|or)\b", re.IGNORECASE)
_WRITER = re.compile(r"\bI\b|\b(?:im|ive)\b", re.IGNORECASE)

_LEVEL_RANK = {NONE: 0, DISTRESS: 1, RISK: 2}


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


def _clause_prefix(sentence: str, start: int) -> str:
    """The part of the current clause before a match."""
    begin = 0
    for m in _CLAUSE_BREAK.finditer(sentence, 0, start):
        begin = m.end()
    return sentence[begin:start]


def _reported_by_other(sentence: str, start: int) -> bool:
    """True when the match sits inside speech attributed to someone else in the same sentence."""
    last = None
    for m in _REPORTING.finditer(sentence, 0, start):
        last = m
    if last is None or last.group(1).lower() in _SELF:
        return False
    return not _REPORTING_CONTINUES.search(sentence, last.end(), start)


def _cancelled(rule: _Rule, sentence: str, m: re.Match[str]) -> bool:
    """Negation, someone else's words, a hypothetical, or a conjunction-subject without the writer present."""
    if _CONJ_START.match(m.group()) and not _WRITER.search(sentence, 0, m.start()):
        return True
    prefix = _clause_prefix(sentence, m.start())
    if not rule.inherent_negation and _NEGATOR.search(prefix):
        return True
    if _HYPOTHETICAL.search(prefix):
        return True
    return _reported_by_other(sentence, m.start())


def _sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) pairs; offsets index into text."""
    return [(m.start(), m.group()) for m in _SENTENCE.finditer(text) if m.group().strip()]


def _trim(sentence: str, start: int, end: int) -> tuple[int, int]:
    """Drops leading punctuation (elided-subject matches) and a leading conjunction from a span."""
    while start < end and not sentence[start].isalnum():
        start += 1
    conj = _CONJ_START.match(sentence, start, end)
    if conj and end - conj.end() > 2:
        start = conj.end()
        while start < end and sentence[start].isspace():
            start += 1
    return start, end


def detect_crisis(text: str) -> CrisisResult:
    """Scores each sentence of text; the strongest level found wins."""
    normal = text.translate(_NORMALISE)
    lowered = normal.lower()
    active = [rule for rule in _RULES if any(k in lowered for k in rule.keywords)]
    if not active:
        return CrisisResult(False, NONE, ())
    level = NONE
    spans: list[Span] = []
    for offset, raw in _sentences(normal):
        low = raw.lower()
        rules = [rule for rule in active if any(k in low for k in rule.keywords)]
        if not rules:
            continue
        sentence = _mask_quotes(raw)
        for rule in rules:
            for m in rule.pattern.finditer(sentence):
                if m.end() == m.start() or _cancelled(rule, sentence, m):
                    continue
                start, end = _trim(sentence, m.start(), m.end())
                spans.append(Span(offset + start, offset + end, text[offset + start:offset + end]))
                if _LEVEL_RANK[rule.level] > _LEVEL_RANK[level]:
                    level = rule.level
                break
    return CrisisResult(bool(spans), level, _merge(spans))


def _merge(spans: list[Span]) -> tuple[Span, ...]:
    """Sorted, with spans nested inside an earlier one dropped."""
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and span.end <= out[-1].end:
            continue
        out.append(span)
    return tuple(out)
