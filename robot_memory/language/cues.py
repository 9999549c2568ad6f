"""Cue patterns: the word patterns that decide a question's shape, as plain data (no logic).

Each is searched in the question's normalised words with its times masked (the *cue* text).
`robot_memory.language.shapes` tries them in a fixed order; `robot_memory.language.slots`
reads a few more of them while it fills a shape's slots (a "still", a "seen", a "same as").
"""

from __future__ import annotations

import re

COUNT = re.compile(r'\bhow many\b|\bnumber of\b|\bcount(?:ed|ing)?\b|\bhow much\b|\btally\b')
WHEN = re.compile(r'\bwhen\b')
FIRST = re.compile(r'\bfirst (?:time )?(?:see|saw|seen|spot|notice|appear|show|turn|arriv|came'
                   r'|come|find|found|detect|get|got)|\bdeliver(?:ed|y)\b|\bbrought in\b'
                   r'|\bappear(?:ed|s)?\b|\bshow(?:ed|n|s)? up\b|\bturn(?:ed|s)? up\b'
                   r'|\barriv(?:e|ed|es|al)\b|\b(?:get|got|come|came) (?:here|in)\b'
                   r'|\bwhen did (?:you|we) first\b|\bfirst (?:appearance|sighting)\b'
                   r'|\bfirst time (?:you|i|we|anyone) (?:saw|seen|spotted|noticed|found)\b')
LAST = re.compile(r'\blast\b|\bmost recently\b|\blatest\b')
SEEN = re.compile(r'\b(?:have|has|did)\s+(?:you|anyone|anybody|someone|somebody)\s+'
                  r'(?:seen|see|spotted|spot|noticed|notice|come across|came across'
                  r'|run into|found)\b|\byou (?:have|saw|did see) (?:seen )?(?:my|the|our)\b')
HABIT = re.compile(r'\b(?:usual|usually|normally|normal|typically|typical|generally|mostly'
                   r'|habitually|regularly|tend|tends|often|always|most of the time|most days'
                   r'|every day|ordinarily|customarily|as a rule)\b'
                   r'|\bwhere (?:do|does) (?:[a-z]+ ){1,4}(?:belong|go|live)\b'
                   r'|\bwhere\b.*\b(?:belongs?|kept|stored|lives)\b')
FUTURE = re.compile(r'\bwill\b|\bgoing to be\b|\bgonna be\b|\bexpect\b')
CHANGE = re.compile(r'\bchang(?:e|ed|es|ing)\b|\bdifferent\b|\bmov(?:e|ed|es|ing)\b|\bnew\b'
                    r'|\brearrang\w*|\btouch(?:ed)?\b|\bshifted\b|\bdisplaced\b'
                    r'|\bshift (?:the|my|it|them|our|his|her|anything)\b'
                    r'|\bsomewhere else\b|\belsewhere\b|\brelocated?\b')
# Cues that ask for every place an object has been, whatever the time named.
HISTORY_STRONG = re.compile(r'\beverywhere\b|\ball the (?:places|rooms|locations|spots)\b'
                            r'|\b(?:every|each) (?:place|room|location|spot)\b'
                            r'|\b(?:which|what) (?:places|rooms|locations|aisles|spots)\b'
                            r'|\bpassed through\b|\bvisited\b|\bmovements?\b|\btrace\b'
                            r'|\bhistory\b')
HISTORY = re.compile(rf'{HISTORY_STRONG.pattern}|\bbeen\b|\btrack\b')
WHERE = re.compile(r'\bwhere\b|\bwhereabouts\b|\b(?:which|what) (?:rooms?|places?|spots?'
                   r'|locations?|aisles?)\b|\beverywhere\b|\bmovements?\b|\btrace\b'
                   r'|\bpassed through\b|\ball the (?:places|rooms|locations|spots)\b'
                   r'|\blocation of\b|\bfind\b|\blocate\b|\blooking for\b|\bend(?:ed)? up\b'
                   r'|\b(?:get|got) to\b'
                   # "I need my glasses.", "I'm missing the remote": a request to find it.
                   r'|\b(?:i|we) (?:really |urgently )?need (?:my|the|our|his|her|their)\b'
                   r'|\b(?:i|we) (?:am|are) missing (?:my|the|our|his|her|their)\b'
                   r'|\b(?:i|we) (?:have |just )?lost (?:my|the|our|his|her|their)\b')
WHAT = re.compile(r'^(?:(?:hey|ok|okay|so|and|robot|please)\W+)*(?:what|which|list|name'
                  r'|describe|tell me about'
                  r'|show me|tell me what|tell me everything|enumerate)\b')
STATE_QUESTION = re.compile(r'\bwhat state\b|\bstatus\b|\bcondition\b|\bstate of\b'
                            r'|\bopen or closed\b|\bclosed or open\b|\bon or off\b'
                            r'|\boff or on\b')
# A yes/no question about being somewhere: "is the mug …", "quick check, is the mug …",
# "can you confirm (that) the mug is …".
YES_NO_BE = re.compile(
    r'^(?:(?:hey|ok|okay|so|robot)\W+)*(?:is|are|was|were)\b'
    r'|^[a-z ]{1,30} , (?:is|are|was|were)\b'
    r'|\b(?:check|confirm|verify|tell me|see|sure|wonder|wondering|know|ask)'
    r'(?: (?:if|whether|that))? '
    r'(?:the|my|our|your|his|her|their) [a-z0-9\' ]+? (?:is|are|was|were)\b')
PAST = re.compile(r'\b(?:was|were|did|had)\b')
EXISTENTIAL = re.compile(r'^(?:(?:hey|ok|okay|so|robot)\W+)*(?:is|are|was|were) there\b')
STILL_THERE = re.compile(r'\bstill (?:there|here|in (?:its|her|his|their) place)\b'
                         r'|\bthere still\b')
STILL = re.compile(r'\bstill\b|\banymore\b|\bany more\b|\bany longer\b')
# Open questions that ask where to *do* something ("where can I wash my hands?"), answered by
# retrieval; looking for a thing ("where can I find …") is a location question instead.
RETRIEVE = re.compile(
    r'\bwhere (?:can|could|should|would|might|may|do|does) (?:i|we|one|you|someone|somebody) '
    r'(?!find\b|get\b|locate\b|look\b|see\b|search\b|spot\b|keep\b|put\b|store\b|leave\b'
    r'|hang\b|place\b|pick\b|grab\b|fetch\b|check\b|usually\b|normally\b|expect\b|be\b'
    r'|think\b|reckon\b|suppose\b|guess\b|last\b|first\b)[a-z]+'
    r'|\bwhere (?:can|could|should|would|do) (?:i|we) (?:put|store|keep|leave|hang|get|find'
    r'|buy|grab|fetch) (?:a|an|some|a few|few|any|something|anything)\b'
    r'|\b(?:somewhere|anywhere|some ?place) (?:i|we) (?:can|could|might)\b'
    r'|\bwhere (?:can|could|should|would) (?:i|we) (?:put|leave|hang|place|store|keep)\b.*'
    r'\bto (?!the\b|my\b|a\b)[a-z]+\W*$'
    r'|\b(?:somewhere|anywhere|some ?place|a (?:[a-z]+ )?(?:place|spot|room|area|corner))'
    r' (?:to|for|where (?:i|we) (?:can|could))\b'
    r'|\bwhat (?:can|could|should|do) (?:i|we) use\b|\bsomething (?:to|for) [a-z]+'
    r'|\bwhich (?:room|place|spot) (?:is|would be) (?:best|good|the best|nice) (?:to|for)\b')
# "A good place to keep the charger": a prediction about one object, not a retrieval.
KEEP_TARGET = re.compile(r'\b(?:place|spot|somewhere|room) (?:to|for) (?:keep|put|store|leave'
                         r'|hang)(?:ing)? (?:the|my|our|this|these|that|those|his|her)\b')
DURATION = re.compile(r'\bhow long\b(?!\s+ago)|\bsince when\b|\bsince what time\b'
                      r'|\bfor how many (?:days|hours)\b'
                      r'|\bhow many (?:days|hours|minutes|weeks) (?:has|have|had|is|are)\b')
# "where was the mug when I left?": a clause, not a question about time.
WHEN_CLAUSE = re.compile(r'\b(?:where|what|which|is|was|are|were)\b.*\bwhen (?:i|we|you|he|she'
                         r'|they) ')
SEEN_ANY = re.compile(r'\b(?:have|has|did|had) (?:you|anyone|anybody|someone|somebody)'
                      r'(?: ever)? (?:seen|see|spotted|spot|noticed|notice|come across'
                      r'|came across|found|run into)\b')
# Existence of any thing of a kind (indefinite): "do we have any …", "have you seen a …".
HAVE_ANY = re.compile(
    r'\b(?:do|does|did) (?:we|you|i|they) (?:still )?(?:have|see|got|own|keep)'
    r' (?:any|some|a|an)\b'
    r'|\b(?:have|has|did) (?:you|anyone|anybody|someone|somebody)(?: ever)? (?:seen|see'
    r'|spotted|noticed|come across|came across|found) (?:a|an|any|some)\b'
    r'|^(?:(?:hey|ok|okay|so|robot|and)\W+)*(?:got )?any\b'
    r'|\b(?:is|are|was|were) there (?:still |also |even )?(?:a|an|any|some|anything'
    r'|something)\b'
    r'|\bif (?:there is|there are|there was|there were|we have) (?:a|an|any|some)\b')
ANYTHING = re.compile(r'\b(?:anything|something|stuff|things|items|objects|what all'
                      r'|everything)\b')
ATTRIBUTE = re.compile(
    r'\b(?:what|which)(?: is| was| are| were| would be)?(?: the)? (colou?rs?|state|status'
    r'|condition|material|shape|size|brand|temperature|setting|mode)\b'
    r'|\b((?:open|closed|shut|on|off|locked|unlocked|full|empty|hot|cold|running|clean|dirty)'
    r' or (?:open|closed|shut|on|off|locked|unlocked|full|empty|hot|cold|running|clean'
    r'|dirty|not))\b'
    r'|\b(colou?r) (?:of|is|was)\b|\bwhat (?:state|status|condition)\b')
# Predictions from habits: "where will it be", "where should I look for", "a good place to
# keep".
PREDICT = re.compile(r'\bwhere (?:will|would|might|could) (?:[a-z]+ ){1,4}(?:be|end up)\b'
                     r'|\bwhere (?:should|would) (?:i|we) (?:look|search|check)\b'
                     r'|\b(?:good|best|right|sensible|better|ideal|safe) (?:place|spot|room)'
                     r' (?:to|for) (?:keep|put|store|leave|hang)\b|\blikely\b'
                     r'|\bexpect\b|\bgoing to be\b|\bgonna be\b'
                     r'|\b(?:best|good|likely|first) (?:place|spot|room) to (?:look|search|find'
                     r'|check)\b')
SAME_AS = re.compile(r'\b(?:same|usual|original|old) (?:spot|place|position|location|room)'
                     r' as\b|\bwhere (?:it|they|he|she) (?:was|were) (?:on|yesterday|last)\b'
                     r'|\bsame as (?:on|yesterday|last)\b')
PERFECT = re.compile(r'\b(?:has|have) (?:it |they |he |she )?(?:been|visited|gone|travel)')
# "What is next to the sofa?", "which mug is right of the kettle?", "the thing hanging above
# the fireplace — what is it?": a question about what stands in a relation to a thing.
_RELATION_WORDS = (r'(?:next to|beside|near|nearby|close to|left of|right of|above|over'
                   r'|below|behind|between|by)')
RELATION_ASK = re.compile(
    r'^(?:(?:hey|ok|okay|so|and|robot|please)\W+)*(?:what|which(?: [a-z]+){0,2})'
    r'(?: is| are| was| were| do you see| did you see| can you see)?(?: there)?'
    r'(?: (?:lying|sitting|standing|hanging|kept|placed|stored|leaning|located))?'
    rf'(?: (?:right|just|directly|immediately))?(?: (?:to|on|at) the)? {_RELATION_WORDS}\b'
    r'|^(?:the |a )?(?:thing|things|object|objects|stuff|item|items)'
    rf'(?: (?:hanging|lying|sitting|standing|leaning))? {_RELATION_WORDS}\b.*\bwhat\b')
RELATION_WORD = re.compile(rf'\b{_RELATION_WORDS}\b')
# Questions memory cannot answer whatever it has seen (`Unanswerable`), by their reason.
_LEAD = r'^(?:(?:hey|hi|ok|okay|so|and|robot|please|but|well)\W+)*'
ABOUT_PEOPLE = re.compile(
    r'\b(?:who|whom|whose)\b'
    rf'|{_LEAD}(?:is|are|was|were) (?:anyone|anybody|someone|somebody|everyone|everybody)\b'
    r'|\b(?:how many|number of) (?:people|persons|guests|visitors|kids|children)\b')
OPINION = re.compile(
    r'\b(?:do|would|did) (?:you|u) (?:like|love|hate|prefer|enjoy|reckon|find)\b'
    r'|\bwhat (?:do|would) you think (?:of|about)\b'
    r'|\byour (?:opinion|view|favou?rite|thoughts|taste)\b'
    r'|\b(?:pretty|ugly|beautiful|stylish|tacky|cozy|cosy|fashionable|trendy)\b'
    r'(?! (?:sure|much|well|often|good|bad|quick|fast)\b)'
    r'|\b(?:look|looks|looked) (?:good|nice|better|bad|okay|ok|fine|great)\b'
    r'|\bwhich (?:is|looks|one is) (?:better|nicer|prettier|best)\b'
    rf'|{_LEAD}should (?:i|we) (?:buy|sell|paint|repaint|replace|redecorate|throw)\b')
NEEDS_KNOWLEDGE = re.compile(
    rf'{_LEAD}(?:why|how come|how (?:do|does|did|can|could|should|would) (?:i|we|you|one|it'
    r'|they)(?! (?:last|first|find|locate|see|spot|get to)\b)|how to)\b'
    r'|\bwhy (?:is|are|was|were|did|do|does|has|have)\b'
    r'|\bwhat (?:do|should|can|must|shall|would|could) (?:i|we|one|you) do\b'
    r'|\bwhat (?:happens|would happen|will happen|to do)\b|\bwhat if\b'
    r'|\b(?:weather|forecast|news|headlines|recipe|horoscope|lottery)\b'
    r'|\bwhat time is it\b|\bwhat (?:is|day is) (?:the date|today)\b'
    r'|\b(?:capital|president|population|meaning|definition) of\b'
    rf'|{_LEAD}(?:should|shall|must) (?:i|we)\b')
