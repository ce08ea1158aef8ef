"""Examples for every crisis rule, by rule id: at least three positives the rule must fire on, and at least three
hard negatives it must not fire on although they contain its keywords (idioms, other people, negation, the past).

The rules themselves, with their ids and levels, are in crisis.py; tests/safety/test_rules.py runs each example
against its own rule alone (`crisis.detect_rules(text).sources`). Many examples are rows of tests/data/crisis.jsonl
(train and dev splits only: nothing from the frozen split).
"""

from __future__ import annotations

# rule id -> (positives, hard negatives)
EXAMPLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    'want_to_die': (
        (
            "I'm ready to die.",
            'Is it normal to want to stop existing?',
            'I typed "I want to die" into the search bar last night and then closed it.',
        ),
        (
            "I'm ready to die on this hill about protected sleep.",
            "I'm sick of living out of my car between shifts, I need a closer apartment.",
            'I don’t want to die before I see my daughter graduate, so I’m finally taking my blood pressure seriously.',
        ),
    ),
    'wish_dead': (
        (
            'I wish I was dead.',
            'I wish I could just stop existing.',
            'Been sitting in the call room for an hour wishing I could just stop existing.',
        ),
        (
            'I wish I could vanish for the weekend and sleep.',
            'I wish I had more time to sit with patients instead of charting.',
            "Sometimes I wish I had died instead of my brother, and my therapist says that's a common grief thought.",
        ),
    ),
    'rather_dead': (
        (
            "I'd honestly rather be dead than keep living like this.",
            'I would rather die than keep going like this.',
            "Honestly I'd rather not be alive than face tomorrow.",
        ),
        (
            "I'd rather die than present at M&M again, lol.",
            "My attending's favorite line is “I'd rather die than use the EHR,” which gets old.",
            "Honestly I don't see the point of this research year, I'd rather be seeing patients.",
        ),
    ),
    'better_off_dead': (
        (
            "I'm starting to think I'd be better off dead.",
            "I really think I'm better off dead.",
            'Honestly I would be better off dead at this point.',
            "I'm worth more dead than alive. $2 million in term life versus $400k in debt.",
            'Honestly I am worth more to my family dead.',
        ),
        (
            'The standardized patient\'s script said "I\'ve been thinking I\'d be better off dead".',
            'Question nine: thoughts that you would be better off dead, or of hurting yourself in some way.',
            '"Do you ever feel like you\'d be better off dead?" is one of the hardest questions to ask a teenager.',
            'My patient told me he was worth more dead than alive, so we admitted him.',
            'I used to think I was worth more dead, years ago, before treatment.',
        ),
    ),
    'tired_of_living': (
        (
            "I'm so done with living.",
            "Honestly, I'm tired of living this way.",
            "I'm so tired of existing that dying feels like the only rest left.",
        ),
        (
            'I am done, stick a fork in me, see you all Monday.',
            "I'm done with life in the big city, we're moving somewhere quieter.",
            'A patient on our unit kept saying he was tired of being alive, so we consulted psychiatry.',
        ),
    ),
    'death_as_relief': (
        (
            'Suicide feels like the only way out.',
            "I keep thinking that dying wouldn't be so bad.",
            "I'm so tired of existing that dying feels like the only rest left.",
        ),
        (
            'The standardized patient\'s script said "I\'ve been thinking I\'d be better off dead".',
            'Question nine: thoughts that you would be better off dead, or of hurting yourself in some way.',
            '"Do you ever feel like you\'d be better off dead?" is one of the hardest questions to ask a teenager.',
        ),
    ),
    'dont_want_to_live': (
        (
            "I don't want to live anymore.",
            "I don't want to be alive anymore.",
            "I don't want to live anymore and I'm tired of pretending.",
        ),
        (
            "No, I don't want to disappear, I want to be seen.",
            "I don't want to be here on Christmas, but that's the schedule.",
            'My patient said "I don\'t want to live like this", meaning on a ventilator, and we talked about goals of care.',
            "There was a time I didn't want to wake up, and these days I'm the one running the peer support group.",
        ),
    ),
    'not_sure_want_to_live': (
        (
            "I'm not sure I want to live anymore.",
            "I don't even know if I want to be alive.",
            "I'm not sure I even want to be here anymore.",
            "I don't think I want to be alive for another year of this.",
        ),
        (
            'My suicidal thoughts went away once my depression was treated, and I want others to know that.',
            "I'm not sure I want to live in the city after residency.",
            "I don't know if I want to live near my parents or near the hospital.",
            "I don't think I want to live in Boston after residency.",
        ),
    ),
    'disappear': (
        (
            'I want to stop existing.',
            'Part of me wants to just stop existing.',
            "I love my patients but I'm exhausted in a way sleep doesn't fix. Some days I just want to disappear.",
        ),
        (
            'I could just disappear into my bed for a week.',
            "I don't want to be here on Christmas, but that's the schedule.",
            "In the simulation, the actor playing the patient said “I just don't want to be here anymore.”",
        ),
    ),
    'not_be_here_much_longer': (
        (
            "I won't be around much longer, so it doesn't matter.",
            "It's hopeless and I'm not going to be around to see how it ends.",
            "Everyone says it gets better after intern year, but I don't think I'll be here to find out.",
        ),
        (
            "I don't want to be here on Christmas, but that's the schedule.",
            "In the simulation, the actor playing the patient said “I just don't want to be here anymore.”",
            "I won't be here for the holidays this year, I'm on nights.",
            'I might not be around tomorrow afternoon, the dentist is at two.',
        ),
    ),
    'not_safe': (
        (
            "I'm not safe right now.",
            "I need someone to call me, I'm not safe.",
            "I don't feel safe with myself right now.",
        ),
        (
            "I'm safe, I'm not going to do anything, but I'm having a rough week.",
            "I'm not safe to drive after a 28-hour shift, so I take a cab.",
            'The parking garage is not safe at night, please walk in pairs.',
        ),
    ),
    'kill_myself': (
        (
            'gonna kms',
            "I've been thinking about how I would kill myself.",
            "If he finds out about the error I'm going to kill myself before the review.",
        ),
        (
            "I'd never kill myself, my kids need me.",
            "I'm killing myself studying for boards, but it'll be worth it.",
            'On the psych rotation a patient said, "I want to kill myself," and my attending modeled the calmest response.',
            "When I was twenty-two I tried to kill myself, and I talk about it now so interns ask for help sooner.",
        ),
    ),
    'end_my_life': (
        (
            'I want to take my own life.',
            'I think about ending my life almost every night.',
            "When my lease ends I'm going to take my life, there's no point signing another.",
        ),
        (
            "I don't have any plans to end my life, I just need to vent.",
            "I held the hand of a patient who'd tried to end her life and just let her cry.",
            'A famous essay by a surgeon starts with "I have thought about ending my life" and ends with hope.',
        ),
    ),
    'end_it': (
        (
            'i wanna end it al',
            "I'm going to end it this weekend.",
            "I told my co-resident I was fine. I'm not. I keep thinking about ending it.",
        ),
        (
            "I'll end it here, thanks for reading.",
            'I was dead on my feet by the end of clinic, but I made it home.',
            "I once thought about ending it all, and I'm grateful I'm still here to see my kids grow up.",
        ),
    ),
    'suicidal': (
        (
            'I feel actively suicidal tonight.',
            'Been having suicidal thoughts since the match results came out.',
            "I'm having suicidal thoughts again and they're louder this time.",
        ),
        (
            'I documented that she denied SI and HI.',
            'How do you document a positive SI screen in a patient who denies intent?',
            "Our chief asks us every month whether we've had thoughts of hurting ourselves, and I appreciate it.",
        ),
    ),
    'my_suicidal_thoughts': (
        (
            "Passive SI is back and it's louder this time.",
            "I'm scared because the thoughts of killing myself are getting louder.",
            'My suicidal thoughts are worse this week.',
        ),
        (
            "My patient's suicide attempt shook me more than I expected.",
            'If I ever feel suicidal again, my plan is to call my sister and my therapist.',
            'The nurse asked me the suicide screening questions at my own physical, and it felt odd to be on the other side.',
        ),
    ),
    'attempted': (
        (
            'I made a suicide attempt during second year of med school and the feelings are coming back.',
            'I attempted suicide last spring and nobody at work knows.',
            'I survived a suicide attempt two months ago.',
        ),
        (
            'The patient was on suicide watch all weekend.',
            'Our simulation centre now runs a suicide risk assessment scenario for interns.',
            'The nurse asked me the suicide screening questions at my own physical, and it felt odd to be on the other side.',
        ),
    ),
    'think_about_dying': (
        (
            "I'm thinking about ending it.",
            "I'm shaking and I can't stop thinking about hurting myself.",
            'I keep imagining my car hitting a tree on the highway and feeling nothing but relief.',
        ),
        (
            "Her mother asked me, 'Do you think she wanted to die?'",
            'If anyone here is thinking about suicide, please tell someone today, you matter.',
            "My short story ends with the narrator walking into the ocean, and I worry readers will think it's about me.",
        ),
    ),
    'self_harm': (
        (
            'I cut myself after my shift.',
            "I've been hiding the cuts under my long sleeves.",
            'I punched the wall until my knuckles bled because I needed to feel something else.',
        ),
        (
            'My phone is on its last legs.',
            "My brother has been self-harming and I don't know how to help him.",
            "Our chief asks us every month whether we've had thoughts of hurting ourselves, and I appreciate it.",
        ),
    ),
    'better_off_without_me': (
        (
            'Everyone would be better off without me.',
            'My wife and kids would be better off with the life insurance money.',
            "Third night float in a row. I haven't slept, my hands shake, and honestly I keep thinking my family would be better off without me.",
        ),
        (
            'My patient is better off without the extra sedation.',
            "The patient's ex-wife told me, 'He said everyone would be better off without him.'",
            '"Do you ever feel like you\'d be better off dead?" is one of the hardest questions to ask a teenager.',
        ),
    ),
    'burden': (
        (
            'I feel like a burden to everyone.',
            "I'm a burden on everyone, my death would set them free.",
            'I feel like such a burden on everyone who has to cover for me.',
        ),
        (
            'I told my patient she is not a burden to her family.',
            'She said "I\'m a burden" and I said "you\'re a person we want to care for."',
            'Warning signs we teach: talking about being a burden, looking up ways to die, saying goodbye.',
        ),
    ),
    'no_one_would_miss': (
        (
            'No one would miss me if I was gone.',
            'lol no one would even notice if i died tbh',
            'No one would notice if I was gone, except the scheduler.',
        ),
        (
            'I lost my best friend to cancer and work is the only thing keeping me busy.',
            '"Nobody would miss me," he told the triage nurse, so she brought him straight back.',
            'No one would miss the old pager system, good riddance.',
        ),
    ),
    'nothing_to_live_for': (
        (
            "I'm so done with living.",
            "There's no reason for me to stay alive.",
            "Honestly what's the point of staying alive when it just hurts.",
            "i see no reason to keep going with my life.",
            "Honestly there is nothing left for me to stay for.",
        ),
        (
            'So done with today.',
            "I'm so done with the EHR that I wrote a strongly worded email to IT.",
            'The poem we read in narrative medicine asked "what is the point of going on", and the discussion was beautiful.',
            "There's no reason to keep going with this project now that the grant fell through.",
            "No reason to keep going on about the schedule, it's set.",
            "There was nothing left to stay for at the party, so we went home.",
        ),
    ),
    'no_way_out': (
        (
            "I can't go on like this.",
            'Suicide seems like the only option left.',
            "I can't see any way out of this except dying.",
        ),
        (
            "I can't go on vacation until June.",
            "There's no way out of the parking garage after 6 p.m. without a badge.",
            'The patient\'s note to us said "thank you for not letting me die", and I keep it on my desk.',
        ),
    ),
    'wake_up': (
        (
            'wish i could just not wake up tmrw',
            'I want to sleep forever and never wake up.',
            'Nothing matters anymore and I just want to go to sleep forever.',
        ),
        (
            "I don't want to wake up at 4 a.m. again tomorrow.",
            "The young man with the slashed forearms wouldn't look at me while I sutured.",
            "My co-intern admitted she'd been hoping not to wake up, and we got her to the EAP that afternoon.",
        ),
    ),
    'hope_for_accident': (
        (
            'Sometimes I hope the plane crashes.',
            'Sometimes I hope the plane crashes on the way to my interview.',
            'Some part of me hopes I get into an accident so I can finally rest.',
            'Most mornings I keep hoping a car hits me on my bike ride.',
        ),
        (
            "I hope I don't wake up the baby when I get home post-call.",
            "I hope I don't get into an accident on this ice tonight.",
            'I hope I get home in time for dinner tonight.',
            'Hoping the crash cart check goes quicker than last week.',
        ),
    ),
    'method': (
        (
            "I know exactly how I'd do it.",
            'Sometimes I fantasize about overdosing on my insulin.',
            "My therapist asked if I was safe. I said yes, but the truth is I've been stockpiling my sleeping pills.",
        ),
        (
            'I want to throw my pager into the sea.',
            "The 40-year-old man in bay 3 attempted by overdose on his wife's opioids.",
            'My patient is a veteran who told me he has a gun and thinks about using it, so we made a plan to store it off site.',
        ),
    ),
    'want_it_all_to_stop': (
        (
            'I want it all to end.',
            'I just want it all to be over, permanently.',
            "I'm weary of every single day and I want it all to stop for good.",
        ),
        (
            'I just want this call shift to be over.',
            "I don't have any plans to end my life, I just need to vent.",
            'I want to stop existing as a resident and start existing as a human, roll on June.',
        ),
    ),
    'cant_breathe': (
        (
            "Can't stop crying. Can't breathe.",
            "I can't breathe, my chest is tight, I'm scared and alone.",
            "I'm having a full-blown panic attack in the parking garage and I can't breathe.",
        ),
        (
            "This heat is unbearable and I can't breathe outside.",
            'Watching my patient struggle to breathe was the hardest part of the night.',
            'Her death was expected, but I still went to the stairwell to breathe for a minute.',
        ),
    ),
    'cant_stop_crying': (
        (
            "Can't stop crying. Can't breathe.",
            "I can't stop shaking and I can't breathe, I'm falling apart.",
            "Something is really wrong with me, I can't stop sobbing in the bathroom.",
        ),
        (
            "The patient couldn't stop shaking after the seizure.",
            "The baby couldn't stop crying all night, so neither of us slept.",
            "She couldn't stop crying after the diagnosis, and I stayed with her.",
        ),
    ),
    'falling_apart': (
        (
            "I'm unraveling.",
            "I'm completely falling apart and nobody notices.",
            "I feel like I'm suffocating every time I walk into the hospital.",
        ),
        (
            "I'm drowning in discharge summaries today.",
            "I'm sinking into the couch and not moving until Monday.",
            "My wife says she feels like she's drowning with the kids while I'm on nights.",
        ),
    ),
    'broke_down': (
        (
            "I'm breaking down in the stairwell again.",
            'I completely broke down in front of my attending today.',
            'I broke down sobbing in the call room after the code.',
        ),
        (
            "I'm breaking down the differential for the student.",
            'I broke down the case for the students step by step.',
            'My car broke down on the way to the hospital.',
        ),
    ),
    'panic_attack': (
        (
            "I'm having a panic attack and I can't breathe.",
            "I'm having a panic attack in the call room and I don't know what to do.",
            "I'm having a full-blown panic attack in the parking garage and I can't breathe.",
        ),
        (
            'The panic attacks I had as a med student are long gone now.',
            'My intern had a panic attack before her first code, and we talked it through.',
            'We talked a colleague through a panic attack after her first death pronouncement.',
        ),
    ),
    'breaking_point': (
        (
            "I've hit rock bottom.",
            "I'm at my breaking point.",
            "I'm at my breaking point and I don't think I can hold on.",
        ),
        (
            'I never wanted to die, even at my lowest.',
            "I'm breaking down the differential for the student.",
            "I feel low this week and I'm going to take my day off properly.",
        ),
    ),
    'not_okay': (
        (
            "I'm not coping at all.",
            "I'm not okay. I'm really, really not okay.",
            "Please, someone, I need help right now, I'm not okay.",
        ),
        (
            "It's okay to not be okay after a night like that.",
            "I'm not okay with how the program handled the complaint.",
            '"I\'m not going to make it," the patient said, and he was right, he died that night.',
        ),
    ),
    'cant_take_it': (
        (
            "I can't cope anymore.",
            "I'm done, I can't keep doing this anymore.",
            "I'm at my breaking point and I don't think I can hold on.",
        ),
        (
            "You're not weak for feeling this, you're human.",
            "I'm done with this job, not with life, and I'm interviewing elsewhere.",
            "My co-resident said she can't do this anymore, so I covered her clinic and we went for a walk.",
        ),
    ),
    'hopeless': (
        (
            "I'm hanging by a thread.",
            'I feel numb inside and nothing helps.',
            "My chest is tight, my hands won't stop trembling and I feel like I'm dying.",
        ),
        (
            "I'm exhausted, not hopeless.",
            'The dark years are behind me; I went back to medicine and I love it.',
            'The survey item read "I feel hopeless about the future" and I wondered how many interns checked yes.',
        ),
    ),
    'crying_every_day': (
        (
            'I cried myself to sleep again.',
            "Something is really wrong with me, I can't stop sobbing in the bathroom.",
            "It's 4am and I'm sobbing in my car in the hospital lot and I can't make myself go back in.",
        ),
        (
            'I cried reading this, in a good way.',
            "My cat knocked over my coffee and I almost cried, that's how tired I am.",
            "I used to cry in the stairwell every day as an intern, and this year I haven't once.",
        ),
    ),
    'need_help_now': (
        (
            'Someone please help me.',
            "Please help me, I'm not okay and I'm scared.",
            "Please, someone, I need help right now, I'm not okay.",
        ),
        (
            'I need help with my fellowship personal statement.',
            'Can someone help me understand the new rotation schedule?',
            "Please help me pick a good restaurant for the residents' dinner.",
        ),
    ),
}
