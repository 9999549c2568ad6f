"""English questions → typed queries, by rules over words plus open-vocabulary matching.

The parser works in fixed steps, each of which a reader can check in `ParseResult.matched`:

1. normalise the text (lower case, contractions, punctuation);
2. find time expressions (`robot_memory.language.timeexpr`) and mask them out;
3. find object names of the vocabulary (multi-word, plural forms) and rooms after a
   preposition ("in the kitchen"), with synonyms ("lounge") and, when an embedder is given,
   embedding similarity;
4. decide the question type from cue words ("how many", "last see", "usually", "changed",
   "where", a state word, …);
5. pick the target noun phrase: the object name that is not a place ("the mug *on the desk*"),
   with its colour; a phrase outside the vocabulary is matched with the embedder ("rucksack" →
   backpack) or, without one, kept literally.

A question it cannot read gets `query=None` and an `error` that says what was missing and why;
it never guesses a type.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from robot_memory.core.clock import MemoryClock
from robot_memory.core.queries import (
    AttributeOf,
    Category,
    Changes,
    Contents,
    Count,
    Duration,
    Exists,
    History,
    IsAt,
    LastSeen,
    Query,
    Retrieve,
    StateOf,
    Target,
    TimeRange,
    Usual,
    WhatIn,
    WhenAppeared,
    WhereIs,
    WhereWas,
    query_to_dict,
)
from robot_memory.core.taxonomy import Taxonomy, default_taxonomy
from robot_memory.exceptions import InvalidInputError, RobotMemoryError
from robot_memory.language.intents import IntentClassifier
from robot_memory.language.timeexpr import (
    DAY_S,
    TimeExpression,
    TimeKind,
    find_times,
    unused_time_words,
)
from robot_memory.perception.classes import FURNITURE_CLASSES

if TYPE_CHECKING:
    from robot_memory.core.scene_graph import SceneGraph
    from robot_memory.language.embeddings import TextEmbedder
    from robot_memory.language.llm import LLMBackend

__all__ = [
    'DEFAULT_COLORS',
    'DEFAULT_LABELS',
    'DEFAULT_ROOMS',
    'DEFAULT_STATES',
    'ParseResult',
    'QuestionParser',
    'Vocabulary',
]

# Household objects: the simulator's classes, common extras, and the furniture perception knows.
DEFAULT_LABELS: tuple[str, ...] = tuple(sorted({
    'apple', 'backpack', 'ball', 'banana', 'basket', 'bin', 'blanket', 'book', 'bottle', 'bowl',
    'box', 'camera', 'charger', 'clock', 'coat', 'cup', 'cupboard', 'door', 'glass', 'glasses',
    'handbag', 'hat', 'headphones', 'jacket', 'kettle', 'keys', 'lamp', 'laptop', 'microwave',
    'mug', 'notebook', 'pen', 'phone', 'pillow', 'plant', 'plate', 'remote', 'scissors', 'shoe',
    'soap', 'speaker', 'tablet', 'television', 'toaster', 'toothbrush', 'towel', 'toy',
    'umbrella', 'vase', 'wallet', 'console_table', 'filing_cabinet', 'kitchen_table',
    'sink_counter', *FURNITURE_CLASSES,
}))
DEFAULT_COLORS: tuple[str, ...] = (
    'red', 'green', 'blue', 'yellow', 'orange', 'purple', 'pink', 'brown', 'black', 'white',
    'grey', 'beige', 'teal', 'navy', 'silver', 'gold',
)
DEFAULT_STATES: tuple[str, ...] = ('open', 'closed', 'on', 'off', 'locked', 'unlocked')
DEFAULT_ROOMS: tuple[str, ...] = (
    'kitchen', 'living_room', 'bedroom', 'bathroom', 'study', 'hallway', 'dining_room',
)

_COLOR_SYNONYMS = {'gray': 'grey', 'golden': 'gold', 'violet': 'purple'}
# Words a person uses for a state, mapped to the vocabulary's state names.
_STATE_SYNONYMS = {'opened': 'open', 'shut': 'closed', 'running': 'on', 'ajar': 'open'}
# Common names of the same room; the vocabulary's own names always win over these.
_ROOM_SYNONYMS: dict[str, tuple[str, ...]] = {
    'living room': ('lounge', 'sitting room', 'family room', 'den', 'tv room', 'front room',
                    'living area', 'livingroom'),
    'study': ('office', 'home office', 'study room', 'workroom'),
    'office': ('study', 'home office', 'workroom'),
    'hallway': ('hall', 'corridor', 'entrance', 'entryway', 'entrance hall', 'foyer'),
    'bathroom': ('bath', 'washroom', 'restroom', 'shower room', 'lavatory', 'loo', 'wc'),
    'bedroom': ('bed room', 'sleeping room'),
    'kitchen': ('kitchenette',),
    'dining room': ('dining area', 'diningroom'),
    'meeting room': ('conference room', 'boardroom'),
}
# Words that name a part of a home; an unknown one after "in the" is an unknown room, not noise.
_PLACE_WORDS = frozenset({
    'attic', 'backyard', 'balcony', 'basement', 'cellar', 'conservatory', 'garage', 'garden',
    'gym', 'library', 'laundry', 'lobby', 'loft', 'nursery', 'pantry', 'patio', 'playroom',
    'porch', 'shed', 'studio', 'terrace', 'utility', 'workshop', 'yard',
    # offices, shops and warehouses
    'aisle', 'dock', 'bay', 'upstairs', 'downstairs', 'landing', 'stairs',
    'staircase', 'stairwell', 'reception', 'storeroom', 'stockroom', 'storage', 'mezzanine',
    'showroom', 'lab', 'laboratory', 'classroom', 'canteen', 'cafeteria', 'ward', 'cubicle',
    'depot', 'floor', 'zone', 'section',
})
# Nouns that end a room's name ("cooking area") though they are too vague to be targets.
_ROOM_NOUNS = frozenset({'room', 'rooms', 'area', 'space'})
_HOME_WORDS = frozenset({'house', 'home', 'apartment', 'flat', 'building', 'place', 'warehouse',
                         'facility', 'premises', 'site', 'shop', 'store'})
_ROOM_PREPOSITIONS = frozenset({
    'in', 'inside', 'into', 'within', 'from', 'at', 'around', 'across', 'throughout', 'through',
})
_DETERMINERS = frozenset({
    'the', 'a', 'an', 'my', 'our', 'your', 'his', 'her', 'their', 'its', 'this', 'that',
    'these', 'those', 'any', 'some', 'all', 'every', 'each',
})
# Before a noun phrase these make it a place, not the thing asked about ("the mug on the desk").
_LOCATION_PREPOSITIONS = frozenset({
    'on', 'in', 'inside', 'under', 'underneath', 'below', 'beneath', 'above', 'over', 'near',
    'beside', 'behind', 'next', 'by', 'at', 'into', 'onto', 'around', 'between', 'against',
    'from', 'to', 'atop',
})
_STOP_WORDS = frozenset({
    # question words, auxiliaries, pronouns
    'what', 'where', 'when', 'which', 'who', 'whom', 'whose', 'why', 'how', 'many', 'much',
    'is', 'are', 'am', 'was', 'were', 'be', 'been', 'being', 'do', 'does', 'did', 'done',
    'doing', 'have', 'has', 'had', 'having', 'will', 'would', 'shall', 'should', 'can',
    'could', 'may', 'might', 'must', 'not', 'no', 'yes', 'i', 'me', 'you', 'we', 'us', 'he',
    'him', 'she', 'it', 'they', 'them', 'one', 'ones', 'someone', 'somebody', 'anyone',
    'anybody', 'everyone', 'everybody', 'something', 'anything', 'everything', 'nothing',
    'myself', 'yourself', 'itself', 'there', 'here', 'else', 'other', 'another', 'both',
    'either', 'own', 'same',
    # prepositions and conjunctions
    'in', 'on', 'at', 'inside', 'under', 'underneath', 'below', 'beneath', 'above', 'over',
    'near', 'nearby', 'beside', 'besides', 'next', 'behind', 'between', 'across', 'through',
    'throughout', 'by', 'into', 'from', 'within', 'atop', 'of', 'to', 'for', 'with', 'about',
    'onto', 'off', 'out', 'up', 'down', 'back', 'away',
    'since', 'until', 'till', 'before', 'after', 'during', 'without', 'upon', 'via',
    'towards', 'toward', 'along', 'among', 'and', 'or', 'but', 'if', 'whether', 'so', 'then',
    'than', 'as', 'because', 'while', 'like',
    # verbs of looking, keeping, moving, telling
    'see', 'saw', 'seen', 'seeing', 'spot', 'spotted', 'notice', 'noticed', 'observe',
    'observed', 'find', 'found', 'locate', 'located', 'look', 'looking', 'looked', 'search',
    'check', 'tell', 'know', 'remember', 'recall', 'think', 'guess', 'say', 'show', 'showed',
    'shown', 'appear', 'appeared', 'appears', 'arrive', 'arrived', 'arrives', 'turn', 'turned',
    'switch', 'switched', 'leave', 'left', 'put', 'placed', 'keep', 'kept', 'store', 'stored',
    'go', 'goes', 'going', 'went', 'gone', 'get', 'gets', 'got', 'gotten', 'end', 'ended',
    'ends', 'move', 'moved', 'moves', 'moving', 'change', 'changed', 'changes', 'shift',
    'shifted', 'touch', 'touched', 'count', 'counted', 'counting', 'lie', 'lying', 'lies',
    'sit', 'sitting', 'sits', 'hang', 'hanging', 'live', 'lives', 'belong', 'belongs',
    'spend', 'spent', 'stay', 'stays', 'stayed', 'remain', 'use', 'used', 'need', 'want',
    'wonder', 'mind', 'please', 'let', 'help', 'give', 'try', 'make', 'take', 'took', 'bring',
    'brought', 'set', 'lay', 'laid', 'happen', 'happened', 'seem', 'come', 'came', 'compare',
    'compared', 'list', 'name', 'tend', 'tends', 'expect', 'rearranged', 'relocated',
    'displaced', 'gonna', 'noticing', 'tally', 'hide', 'hidden',
    # adverbs and fillers
    'now', 'currently', 'still', 'already', 'again', 'ever', 'never', 'first', 'last',
    'latest', 'usually', 'normally', 'typically', 'generally', 'mostly', 'often', 'always',
    'sometimes', 'recently', 'lately', 'just', 'right', 'exactly', 'maybe', 'perhaps',
    'anywhere', 'somewhere', 'everywhere', 'elsewhere', 'also', 'too', 'very', 'really',
    'actually', 'probably', 'long', 'different', 'new', 'usual', 'normal', 'typical',
    'total', 'altogether', 'overall', 'anymore', 'yet', 'ago', 'hey', 'hi', 'hello', 'robot',
    'okay', 'ok', 'well', 'oh', 'idea', 'clue', 'chance', 'place', 'places', 'spots',
    'location', 'locations', 'room', 'rooms', 'area', 'position', 'whereabouts', 'time',
    'times', 'moment', 'day', 'days', 'state', 'status', 'condition', 'number', 'default',
    'regularly', 'habitually', 'most', 'history', 'movements', 'movement', 'track', 'around',
    'house', 'home', 'apartment', 'flat', 'building', 'thing', 'things', 'stuff', 'object',
    'objects', 'item', 'items', 'kind', 'sort', 'type', 'lot', 'bit', 'whole', 'entire',
    'anyway', 'someplace', 'remind', 'wondering',
})
_GENERIC_NOUNS = frozenset({'thing', 'things', 'stuff', 'object', 'objects', 'item', 'items',
                            'everything', 'anything'})

_CONTRACTIONS = [
    (re.compile(r"\b(where|what|when|who|how|there|here|that|it)'s\b"), r'\1 is'),
    (re.compile(r"\b(where|what|when|how)'d\b"), r'\1 did'),
    (re.compile(r"\bcan't\b"), 'can not'),
    (re.compile(r"\bwon't\b"), 'will not'),
    (re.compile(r"n't\b"), ' not'),
    (re.compile(r"'re\b"), ' are'),
    (re.compile(r"'ve\b"), ' have'),
    (re.compile(r"'ll\b"), ' will'),
    (re.compile(r"\bi'm\b"), 'i am'),
]
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")
_SEP = '|'

_COUNT = re.compile(r'\bhow many\b|\bnumber of\b|\bcount(?:ed|ing)?\b|\bhow much\b|\btally\b')
_WHEN = re.compile(r'\bwhen\b')
_SINCE_WHEN = re.compile(r'\bsince when\b|\bhow long\b')
_FIRST = re.compile(r'\bfirst (?:time )?(?:see|saw|seen|spot|notice|appear|show|turn|arriv|came'
                    r'|come|find|found|detect|get|got)|\bdeliver(?:ed|y)\b|\bbrought in\b'
                    r'|\bappear(?:ed|s)?\b|\bshow(?:ed|n|s)? up\b|\bturn(?:ed|s)? up\b'
                    r'|\barriv(?:e|ed|es|al)\b|\b(?:get|got|come|came) (?:here|in)\b'
                    r'|\bwhen did (?:you|we) first\b|\bfirst (?:appearance|sighting)\b'
                    r'|\bfirst time (?:you|i|we|anyone) (?:saw|seen|spotted|noticed|found)\b')
_LAST = re.compile(r'\blast\b|\bmost recently\b|\blatest\b')
_SEEN = re.compile(r'\b(?:have|has|did)\s+(?:you|anyone|anybody|someone|somebody)\s+'
                   r'(?:seen|see|spotted|spot|noticed|notice|come across|came across'
                   r'|run into|found)\b|\byou (?:have|saw|did see) (?:seen )?(?:my|the|our)\b')
_HABIT = re.compile(r'\b(?:usual|usually|normally|normal|typically|typical|generally|mostly'
                    r'|habitually|regularly|tend|tends|often|always|most of the time|most days'
                    r'|every day|ordinarily|customarily|as a rule)\b'
                    r'|\bwhere (?:do|does) (?:[a-z]+ ){1,4}(?:belong|go|live)\b'
                    r'|\bwhere\b.*\b(?:belongs?|kept|stored|lives)\b')
_FUTURE = re.compile(r'\bwill\b|\bgoing to be\b|\bgonna be\b|\bexpect\b')
_CHANGE = re.compile(r'\bchang(?:e|ed|es|ing)\b|\bdifferent\b|\bmov(?:e|ed|es|ing)\b|\bnew\b'
                     r'|\brearrang\w*|\btouch(?:ed)?\b|\bshifted\b|\bdisplaced\b'
                     r'|\bshift (?:the|my|it|them|our|his|her|anything)\b'
                     r'|\bsomewhere else\b|\belsewhere\b|\brelocated?\b')
# Cues that ask for every place an object has been, whatever the time named.
_HISTORY_STRONG = re.compile(r'\beverywhere\b|\ball the (?:places|rooms|locations|spots)\b'
                             r'|\b(?:every|each) (?:place|room|location|spot)\b'
                             r'|\b(?:which|what) (?:places|rooms|locations|aisles|spots)\b'
                             r'|\bpassed through\b|\bvisited\b|\bmovements?\b|\btrace\b'
                             r'|\bhistory\b')
_HISTORY = re.compile(rf'{_HISTORY_STRONG.pattern}|\bbeen\b|\btrack\b')
_WHERE = re.compile(r'\bwhere\b|\bwhereabouts\b|\b(?:which|what) (?:rooms?|places?|spots?'
                    r'|locations?|aisles?)\b|\beverywhere\b|\bmovements?\b|\btrace\b'
                    r'|\bpassed through\b|\ball the (?:places|rooms|locations|spots)\b'
                    r'|\blocation of\b|\bfind\b|\blocate\b|\blooking for\b|\bend(?:ed)? up\b'
                    r'|\b(?:get|got) to\b')
_WHAT = re.compile(r'^(?:(?:hey|ok|okay|so|and|robot|please)\W+)*(?:what|which|list|name'
                   r'|describe|tell me about'
                   r'|show me|tell me what|tell me everything|enumerate)\b')
_STATE_QUESTION = re.compile(r'\bwhat state\b|\bstatus\b|\bcondition\b|\bstate of\b'
                             r'|\bopen or closed\b|\bclosed or open\b|\bon or off\b'
                             r'|\boff or on\b')
# A yes/no question about being somewhere: "is the mug …", "quick check, is the mug …",
# "can you confirm (that) the mug is …".
_YES_NO_BE = re.compile(
    r'^(?:(?:hey|ok|okay|so|robot)\W+)*(?:is|are|was|were)\b'
    r'|^[a-z ]{1,30} , (?:is|are|was|were)\b'
    r'|\b(?:check|confirm|verify|tell me|see|sure|wonder|wondering|know|ask)'
    r'(?: (?:if|whether|that))? '
    r'(?:the|my|our|your|his|her|their) [a-z0-9\' ]+? (?:is|are|was|were)\b')
_PAST = re.compile(r'\b(?:was|were|did|had)\b')
_EXISTENTIAL = re.compile(r'^(?:(?:hey|ok|okay|so|robot)\W+)*(?:is|are|was|were) there\b')
_STILL_THERE = re.compile(r'\bstill (?:there|here|in (?:its|her|his|their) place)\b'
                          r'|\bthere still\b')
_STILL = re.compile(r'\bstill\b|\banymore\b|\bany more\b|\bany longer\b')
# Open questions that ask where to *do* something ("where can I wash my hands?"), answered by
# retrieval; looking for a thing ("where can I find …") is a location question instead.
_RETRIEVE = re.compile(
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
_KEEP_TARGET = re.compile(r'\b(?:place|spot|somewhere|room) (?:to|for) (?:keep|put|store|leave'
                          r'|hang)(?:ing)? (?:the|my|our|this|these|that|those|his|her)\b')
_DURATION = re.compile(r'\bhow long\b(?!\s+ago)|\bsince when\b|\bsince what time\b'
                       r'|\bfor how many (?:days|hours)\b'
                       r'|\bhow many (?:days|hours|minutes|weeks) (?:has|have|had|is|are)\b')
# "where was the mug when I left?": a clause, not a question about time.
_WHEN_CLAUSE = re.compile(r'\b(?:where|what|which|is|was|are|were)\b.*\bwhen (?:i|we|you|he|she'
                          r'|they) ')
_SEEN_ANY = re.compile(r'\b(?:have|has|did|had) (?:you|anyone|anybody|someone|somebody)'
                       r'(?: ever)? (?:seen|see|spotted|spot|noticed|notice|come across'
                       r'|came across|found|run into)\b')
# Existence of any thing of a kind (indefinite): "do we have any …", "have you seen a …".
_HAVE_ANY = re.compile(
    r'\b(?:do|does|did) (?:we|you|i|they) (?:still )?(?:have|see|got|own|keep)'
    r' (?:any|some|a|an)\b'
    r'|\b(?:have|has|did) (?:you|anyone|anybody|someone|somebody)(?: ever)? (?:seen|see'
    r'|spotted|noticed|come across|came across|found) (?:a|an|any|some)\b'
    r'|^(?:(?:hey|ok|okay|so|robot|and)\W+)*(?:got )?any\b'
    r'|\b(?:is|are|was|were) there (?:still |also |even )?(?:a|an|any|some|anything'
    r'|something)\b'
    r'|\bif (?:there is|there are|there was|there were|we have) (?:a|an|any|some)\b')
_ANYTHING = re.compile(r'\b(?:anything|something|stuff|things|items|objects|what all'
                       r'|everything)\b')
_CONTENT_PREPOSITIONS = frozenset({'on', 'in', 'inside', 'under', 'atop', 'upon', 'within',
                                   'into', 'onto', 'underneath', 'beneath'})
_ATTRIBUTE = re.compile(
    r'\b(?:what|which)(?: is| was| are| were| would be)?(?: the)? (colou?rs?|state|status'
    r'|condition|material|shape|size|brand|temperature|setting|mode)\b'
    r'|\b((?:open|closed|shut|on|off|locked|unlocked|full|empty|hot|cold|running|clean|dirty)'
    r' or (?:open|closed|shut|on|off|locked|unlocked|full|empty|hot|cold|running|clean'
    r'|dirty|not))\b'
    r'|\b(colou?r) (?:of|is|was)\b|\bwhat (?:state|status|condition)\b')
_ATTRIBUTE_NAMES = {'colour': 'color', 'colours': 'color', 'colors': 'color',
                    'status': 'state', 'condition': 'state', 'setting': 'state',
                    'mode': 'state'}
# Predictions from habits: "where will it be", "where should I look for", "a good place to
# keep".
_PREDICT = re.compile(r'\bwhere (?:will|would|might|could) (?:[a-z]+ ){1,4}(?:be|end up)\b'
                      r'|\bwhere (?:should|would) (?:i|we) (?:look|search|check)\b'
                      r'|\b(?:good|best|right|sensible|better|ideal|safe) (?:place|spot|room)'
                      r' (?:to|for) (?:keep|put|store|leave|hang)\b|\blikely\b'
                      r'|\bexpect\b|\bgoing to be\b|\bgonna be\b'
                      r'|\b(?:best|good|likely|first) (?:place|spot|room) to (?:look|search|find'
                      r'|check)\b')
_SAME_AS = re.compile(r'\b(?:same|usual|original|old) (?:spot|place|position|location|room)'
                      r' as\b|\bwhere (?:it|they|he|she) (?:was|were) (?:on|yesterday|last)\b'
                      r'|\bsame as (?:on|yesterday|last)\b')
_PERFECT = re.compile(r'\b(?:has|have) (?:it |they |he |she )?(?:been|visited|gone|travel)')

# How an unsure parse names the shapes it hesitates between.
_SHAPE_WORDS = {
    'WhereIs': 'where something is now', 'LastSeen': 'when something was last seen',
    'WhereWas': 'where something was at a past time', 'History': 'where something has been',
    'IsAt': 'whether something is in a place', 'Count': 'how many there are',
    'StateOf': 'whether something is open / on', 'AttributeOf': 'what colour or state',
    'WhatIn': 'what is in a room', 'Contents': 'what is on or in a piece of furniture',
    'Exists': 'whether there is any', 'Changes': 'what changed',
    'Usual': 'where something usually is', 'WhenAppeared': 'when something first appeared',
    'Duration': 'how long something has been somewhere', 'Retrieve': 'where to do something',
}
# The relation a preposition names in "is the mug on / in / by the X?"
_RELATIONS = {'on': 'on', 'onto': 'on', 'atop': 'on', 'upon': 'on', 'in': 'in', 'inside': 'in',
              'into': 'in', 'within': 'in'}

# Open-vocabulary thresholds, tuned on held-out synonyms and non-objects (see the tests): a
# match must be similar enough and clearly better than the runner-up.
_LABEL_TEMPLATE = 'a photo of a {}'
_ROOM_TEMPLATE = 'the {}'


def _default_rooms() -> dict[str, str]:
    return {name: f'room:{name}' for name in DEFAULT_ROOMS}


def _human(name: str) -> str:
    """'room:living_room' / 'living_room' → 'living room'."""
    name = name.split(':', 1)[-1]
    return ' '.join(name.replace('_', ' ').replace('-', ' ').lower().split())


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What the parser can name: object classes, colours, rooms (name → room id), states."""

    labels: tuple[str, ...] = DEFAULT_LABELS
    colors: tuple[str, ...] = DEFAULT_COLORS
    rooms: Mapping[str, str] = field(default_factory=_default_rooms)
    states: tuple[str, ...] = DEFAULT_STATES

    def __post_init__(self) -> None:
        for kind, values in (('label', self.labels), ('colour', self.colors),
                             ('room name', tuple(self.rooms)),
                             ('room id', tuple(self.rooms.values())), ('state', self.states)):
            bad = [v for v in values if not isinstance(v, str) or not _human(v)]
            if bad:
                raise InvalidInputError(f'vocabulary {kind}s must be non-empty strings: {bad!r}')

    @classmethod
    def from_names(cls, labels: Iterable[str] = (), rooms: Iterable[str] | Mapping[str, str] = (),
                   *, colors: Iterable[str] = DEFAULT_COLORS,
                   states: Iterable[str] = DEFAULT_STATES,
                   include_defaults: bool = False) -> Vocabulary:
        """Build from class labels and room names ('living_room' → 'room:living_room').

        Room names may be given as a mapping name → room id instead. With `include_defaults`
        the default household labels and rooms are added to the given ones.
        """
        if isinstance(rooms, Mapping):
            room_map = {str(k): str(v) for k, v in rooms.items()}
        else:
            room_map = {name.split(':', 1)[-1]: name if name.startswith('room:') else
                        f'room:{name}' for name in rooms}
        all_labels = set(labels)
        if include_defaults:
            all_labels |= set(DEFAULT_LABELS)
            room_map = {**_default_rooms(), **room_map}
        return cls(tuple(sorted(all_labels)), tuple(dict.fromkeys(colors)), room_map,
                   tuple(dict.fromkeys(states)))

    @classmethod
    def from_scene_graph(cls, graph: SceneGraph, *, include_defaults: bool = True) -> Vocabulary:
        """Build from a scene graph: its object labels, colours, states and named rooms.

        A room is reachable by its name and, when no other room shares it, by its category.
        """
        labels, colors, states = set(), set(DEFAULT_COLORS), set(DEFAULT_STATES)
        for object_id in graph.objects:
            attrs = graph.get_object(object_id)
            labels.add(attrs.label)
            colors.update([attrs.color] if attrs.color else [])
            states.update([attrs.state] if attrs.state else [])
        room_map: dict[str, str] = {}
        categories: dict[str, list[str]] = {}
        for room_id in graph.rooms:
            attrs = graph.get_room(room_id)
            room_map[attrs.name or room_id.split(':', 1)[-1]] = room_id
            categories.setdefault(attrs.category, []).append(room_id)
        for category, ids in categories.items():
            if category and len(ids) == 1:
                room_map.setdefault(category, ids[0])
        if include_defaults:
            labels |= set(DEFAULT_LABELS)
        return cls(tuple(sorted(labels)), tuple(sorted(colors)), room_map,
                   tuple(sorted(states)))

    def room_name(self, room_id: str) -> str:
        """A readable name of a room id ('room:living_room' → 'living room')."""
        for name, rid in self.rooms.items():
            if rid == room_id:
                return _human(name)
        return _human(room_id)


class ParseResult(NamedTuple):
    """What a question means (`query`), or why it could not be read (`error`), and the pieces
    that matched (`matched`: rule, target, label match and score, colour, room, time, …)."""

    query: Query | None
    error: str
    matched: dict[str, Any]

    @property
    def ok(self) -> bool:
        """Whether the question was understood."""
        return self.query is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary: type, category, target, room, time, query, error, matched."""
        if self.query is None:
            # The shape may be known although a slot was not ("what is in the attic?").
            return {'type': self.matched.get('shape'),
                    'category': self.matched.get('category'), 'target': None,
                    'room': None, 'time': None, 'query': None, 'error': self.error,
                    'unsure': self.matched.get('unsure', ''),
                    'matched': _plain(self.matched)}
        q = self.query
        target = getattr(q, 'target', None)
        room = getattr(q, 'room', '') or (target.room if target is not None else '')
        return {
            'type': type(q).__name__,
            'category': str(q.category),
            'target': None if target is None else {'label': target.label, 'color': target.color,
                                                   'text': target.text},
            'room': room or None,
            'time': _time_summary(q),
            'query': query_to_dict(q),
            'error': '',
            'unsure': self.matched.get('unsure', ''),
            'matched': _plain(self.matched),
        }


def _plain(matched: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, TimeKind) else v) for k, v in matched.items()}


def _time_summary(query: Query) -> dict[str, Any] | None:
    if isinstance(query, Usual):
        return {'time_of_day': query.time_of_day} if query.time_of_day else None
    if isinstance(query, Changes | History):
        if query.since.is_now and query.until.is_now:
            return None
        return {'text': query.since.text or query.until.text, 'start_s': query.since.start_s,
                'end_s': query.until.end_s}
    at = getattr(query, 'at', None)
    if at is None or at.is_now:
        return None
    return {'text': at.text, 'start_s': at.start_s, 'end_s': at.end_s}


class _Span(NamedTuple):
    """Tokens `[start, end)` that name `value` (a label or a room id), and how they matched."""

    start: int
    end: int
    value: str
    how: str
    score: float
    text: str = ''


class _Phrase(NamedTuple):
    """A noun phrase that may be the target."""

    start: int
    words: list[str]
    label: _Span | None
    color: str
    preceded_by: str
    determined: bool


class _Failure(Exception):
    """A question the rules cannot read; the message is the user-facing reason."""


class _Recorder:
    """Stands in for the embedder during `parse_many`'s first pass: records what would be
    embedded and answers from the cache, or with zero vectors for texts not embedded yet."""

    def __init__(self, embedder: TextEmbedder) -> None:
        self.embedder = embedder
        self.texts: list[str] = []

    def embed(self, texts: str | Sequence[str]) -> np.ndarray:
        texts = [texts] if isinstance(texts, str) else list(texts)
        rows = []
        for text in texts:
            cached = self.embedder.cached(text)
            if cached is None:
                self.texts.append(text)
                cached = np.zeros(self.embedder.dim, dtype=np.float32)
            rows.append(cached)
        return np.stack(rows) if rows else np.zeros((0, self.embedder.dim), dtype=np.float32)


class QuestionParser:
    """Turns English questions into typed queries on the memory's clock.

    `embedder` (optional) matches names outside the vocabulary; `backend` (optional) is asked
    once to rephrase a question the rules cannot read. Without either, parsing is pure rules
    and takes well under a millisecond.
    """

    def __init__(self, vocabulary: Vocabulary | None = None, clock: MemoryClock | None = None,
                 embedder: TextEmbedder | None = None, *, backend: LLMBackend | None = None,
                 min_label_score: float = 0.5, min_label_margin: float = 0.04,
                 min_room_score: float = 0.8, min_room_margin: float = 0.05,
                 min_intent_score: float = 0.35, min_intent_margin: float = 0.02,
                 taxonomy: Taxonomy | None = None,
                 min_class_synonym_score: float = 0.75) -> None:
        self.vocabulary = vocabulary if vocabulary is not None else Vocabulary()
        self.taxonomy = taxonomy if taxonomy is not None else default_taxonomy()
        self.clock = clock if clock is not None else MemoryClock()
        self.embedder = embedder
        self.backend = backend
        self.min_label_score = min_label_score
        self.min_label_margin = min_label_margin
        self.min_room_score = min_room_score
        self.min_room_margin = min_room_margin
        self.min_intent_score = min_intent_score
        self.min_intent_margin = min_intent_margin
        self.min_class_synonym_score = min_class_synonym_score
        self._intents: IntentClassifier | None = None
        vocab = self.vocabulary
        self._labels: dict[tuple[str, ...], str] = {}
        for label in vocab.labels:
            self._labels.setdefault(tuple(_human(label).split()), label)
        self._max_label_words = max((len(k) for k in self._labels), default=1)
        self._label_names = sorted(self._labels, key=lambda k: self._labels[k])
        # Category names ("fruit", "drink") are names too (matched exactly; open-vocabulary
        # matching keeps to classes, so "rucksack" is a backpack, not a bag).
        for name in self.taxonomy.categories:
            self._labels.setdefault(tuple(_human(name).split()), name)
        self._max_label_words = max((len(k) for k in self._labels), default=1)
        self._colors = {_human(c): c for c in vocab.colors}
        self._colors.update({k: v for k, v in _COLOR_SYNONYMS.items() if v in vocab.colors})
        self._states = {_human(s): s for s in vocab.states}
        self._states.update({k: v for k, v in _STATE_SYNONYMS.items() if v in vocab.states})
        self._room_names: dict[tuple[str, ...], str] = {}
        for name, room_id in vocab.rooms.items():
            self._room_names.setdefault(tuple(_human(name).split()), room_id)
        self._rooms = dict(self._room_names)
        for name, room_id in list(vocab.rooms.items()):
            base = re.sub(r' \d+$', '', _human(name))
            for synonym in _ROOM_SYNONYMS.get(base, ()):
                self._rooms.setdefault(tuple(synonym.split()), room_id)
        self._max_room_words = max((len(k) for k in self._rooms), default=1)
        self._label_matrix: np.ndarray | None = None
        self._room_matrix: np.ndarray | None = None
        self._room_rows: list[str] = []

    # ------------------------------------------------------------------ public
    def parse(self, question: str, now_s: float) -> ParseResult:
        """Parse one question asked at `now_s` (seconds since the Unix epoch)."""
        start = time.perf_counter()
        result = self._parse_once(question, now_s)
        if not result.ok and self.backend is not None and question.strip():
            result = self._parse_rephrased(question, now_s, result)
        result.matched['parse_ms'] = round((time.perf_counter() - start) * 1e3, 3)
        return result

    def parse_many(self, questions: Sequence[str], now_s: float) -> list[ParseResult]:
        """Parse many questions asked at `now_s`, embedding what they need in batches.

        A first pass over all questions records every text the open-vocabulary matching and
        the intent classifier would embed; those are embedded in one batch (sorted by length),
        and the second pass reads them from the embedder's cache. The results are the same as
        parsing one at a time.
        """
        questions = list(questions)
        if self.embedder is not None and len(questions) > 1:
            self.warm_up()
            real = self.embedder
            recorder = _Recorder(real)
            classifier = self.intents
            self.embedder = recorder
            if classifier is not None:
                classifier.embedder = recorder
            try:
                for question in questions:
                    self._parse_once(question, now_s)
            finally:
                self.embedder = real
                if classifier is not None:
                    classifier.embedder = real
            real.embed(recorder.texts)
        return [self.parse(q, now_s) for q in questions]

    def warm_up(self) -> None:
        """Embed the vocabulary now, so the first open-vocabulary question is fast."""
        if self.embedder is not None:
            self._label_embeddings()
            self._room_embeddings()
            if self.intents is not None:
                self.intents.warm_up()

    # ---------------------------------------------------------------- pipeline
    def _parse_rephrased(self, question: str, now_s: float, first: ParseResult) -> ParseResult:
        assert self.backend is not None
        try:
            rephrased = self.backend.rephrase(question).strip()
        except (RobotMemoryError, OSError) as exc:
            return ParseResult(None, f'{first.error} (the language model could not rephrase '
                                     f'it: {exc})', first.matched)
        second = self._parse_once(rephrased, now_s)
        second.matched['rephrased'] = rephrased
        if second.ok:
            return second
        return ParseResult(None, f'{first.error}; the language model rephrased it as '
                                 f'{rephrased!r}, which I could not read either', second.matched)

    def _parse_once(self, question: str, now_s: float) -> ParseResult:
        last = _last_question(question, clauses=False)
        if last and last.rstrip().endswith('?'):
            # "My mum always forgets things. Where was her handbag?": the question is the last
            # sentence; the words before it are context (they name no shape of their own).
            alone = self._parse_once(last, now_s)
            if alone.ok:
                alone.matched['context'] = question[:len(question) - len(last)].strip()
                return alone
        matched: dict[str, Any] = {}
        try:
            query = self._read(question, now_s, matched)
        except _Failure as exc:
            first = ParseResult(None, str(exc), matched)
            # "We had guests at the weekend. What changed since Friday?": the context before
            # the question may hold words that confuse it; read the question alone.
            last = _last_question(question)
            if not last:
                return first
            second = self._parse_once(last, now_s)
            if not second.ok and second.error.startswith('could not tell which object'):
                # "Someone borrowed the drill. Where was it on Sunday?": "it" is the drill.
                named = self._context_object(question[:len(question) - len(last)])
                if named:
                    replaced = re.sub(r'\b(?:it|them)\b', f'the {named}', last, count=1,
                                      flags=re.IGNORECASE)
                    third = self._parse_once(replaced, now_s)
                    if third.ok:
                        second = third
            if second.ok or (second.matched.get('shape') and not matched.get('shape')):
                second.matched['context'] = question[:len(question) - len(last)].strip()
                return second
            return first
        matched['type'] = type(query).__name__
        return ParseResult(query, '', matched)

    def _read(self, question: str, now_s: float, matched: dict[str, Any]) -> Query:
        text = _normalise(question)
        if not text.strip(' |.?!'):
            raise _Failure('the question is empty')
        times = find_times(text, self.clock, now_s)
        unused = unused_time_words(text, times)
        if unused:
            raise _Failure(f'{question.strip()!r} names a time I cannot use: '
                           f'{", ".join(repr(w) for w in unused)} (a date that does not exist, '
                           'or a form I do not know); say it as "on November 3", "at 9 am", '
                           '"yesterday evening" or "on Monday"')
        masked = text
        for expression in reversed(times):
            lo, hi = expression.span
            masked = f'{masked[:lo]} {_SEP} {masked[hi:]}'
        when, also = _main_time(times, question, text)
        if also:
            matched['also_times'] = also
        if when is not None:
            matched['time'] = when.text
            matched['time_kind'] = when.kind
        tokens = _TOKEN.findall(masked)
        tokens = [self._unpossess(t) if re.fullmatch(r"[a-z0-9]+(?:'[a-z]+)?", t) else _SEP
                  for t in tokens]
        label_spans = self._find_labels(tokens)
        room = self._find_room(tokens, label_spans, question, matched)
        if room is not None:
            if room.how != 'unknown':
                matched.update(room=room.text, room_id=room.value, room_match=room.how)
            if room.how == 'embedding':
                matched['room_score'] = round(room.score, 3)
            tokens = [(_SEP if room.start <= i < room.end else t) for i, t in enumerate(tokens)]
            label_spans = [s for s in label_spans if s.end <= room.start or s.start >= room.end]
        room_id = room.value if room is not None and room.value else ''
        if room is not None and room.how == 'unknown_room':
            # Not a room memory knows; the error is raised once the shape is known.
            room_id = 'room:' + room.text.replace(' ', '_')
        cue_text = ' '.join(_TOKEN.findall(masked))
        phrases = self._phrases(tokens, label_spans)
        state = self._find_state(tokens) or self._state_in_time(text, times)
        if state:
            matched['state'] = state
        try:
            query = self._decide(question, cue_text, phrases, state, room_id, when, now_s,
                                 matched)
        except _Failure:
            if 'shape' in matched or self.embedder is None:
                raise
            # No cue rule knows this wording: the intent classifier picks the shape, the
            # words still fill the slots.
            matched['forced_shape'] = self._classify(question, matched)
            query = self._decide(question, cue_text, phrases, state, room_id, when, now_s,
                                 matched)
        if matched.get('also_times') and not isinstance(query, WhereWas):
            names = ', '.join(repr(t.text) for t in (when, *matched['also_times']) if t)
            raise _Failure(f'{question.strip()!r} names more than one time ({names}); ask '
                           'about one')
        if matched.get('room_error') and not isinstance(query, Retrieve):
            raise _Failure(matched['room_error'])
        matched.pop('also_times', None)
        return query

    # ---------------------------------------------------------------- decide
    def _decide(self, question: str, cue: str, phrases: list[_Phrase], state: str,
                room_id: str, when: TimeExpression | None, now_s: float,
                matched: dict[str, Any]) -> Query:
        """The question's shape from its cue words, then the slots from its phrases.

        `matched['shape']` is set as soon as the shape is known, so that a question whose
        slots cannot be filled (an unknown room, no time for a change) still says what kind
        of question it is.
        """
        q = question.strip()
        where = bool(_WHERE.search(cue))
        past = bool(_PAST.search(cue))
        state_question = bool(state) or bool(_STATE_QUESTION.search(cue))
        forced = matched.get('forced_shape', '')

        def shape(name: str, rule: str) -> None:
            matched['shape'] = name
            matched['rule'] = rule
            matched['category'] = str(_shape_category(name, cue, when, now_s))

        def target(room_scopes_target: bool = True) -> Target:
            # A room narrows the target ("the mug in the kitchen") unless it is the query's
            # own scope (how many mugs *in the kitchen*).
            return self._target(q, phrases, room_id if room_scopes_target else '', matched)

        def require_known_scope() -> None:
            # "How many mugs are in the cooking area / on the table?" must not become a count
            # of the whole home or room.
            if not room_id and matched.get('ignored'):
                raise _Failure(f'unknown room {matched["ignored"][0]!r} in {q!r}; known rooms: '
                               f'{self._room_list()}')
            places = [' '.join(p.words) for p in phrases
                      if p.preceded_by in _LOCATION_PREPOSITIONS and not _only_generic(p)]
            if matched.get('place') or places:
                place = _human(matched.get('place') or places[0])
                raise _Failure(f'{q!r} asks about what is at {place!r}, which is not a room; I '
                               'can count and list things per room')

        has_object = any(p.label is not None or not _only_generic(p) for p in phrases)
        what_form = bool(_WHAT.search(cue)) and not where
        existential = bool(_EXISTENTIAL.search(cue) or _HAVE_ANY.search(cue))
        support = self._support(phrases)
        if forced:
            return self._build_forced(forced, q, cue, phrases, state, room_id, when, past,
                                      now_s, matched, target)
        if _RETRIEVE.search(cue) and not _HABIT.search(cue) and not _KEEP_TARGET.search(cue):
            shape('Retrieve', 'retrieve')
            return self._retrieve(q, when, now_s)
        if _DURATION.search(cue):
            shape('Duration', 'duration')
            return self._duration(q, target, phrases, room_id, state, matched)
        if _COUNT.search(cue):
            shape('Count', 'count')
            at, category = self._at(q, when, past, now_s)
            on = self._support(phrases)
            if on is None:
                require_known_scope()
            label = ''
            if on is not None:
                # "How many cups are in the sink?": counted on / in a piece of furniture.
                label = self._read_support(on, matched)
            return Count(target(False), room_id, at, self._category(cue, category), label)
        if _FIRST.search(cue) and (_WHEN.search(cue) or where or re.search(
                r'\bappear|\bup\b|\barriv|\bwhat (?:day|time)\b', cue)):
            shape('WhenAppeared', 'when_appeared')
            if when is not None and when.kind is not TimeKind.NOW:
                raise _Failure(f'{q!r} asks when something first appeared but also names a '
                               f'time ({when.text!r}); ask without the time')
            return WhenAppeared(target())
        if _WHEN.search(cue) and not _WHEN_CLAUSE.search(cue):
            shape('LastSeen', 'last_seen')
            if _LAST.search(cue) or _SEEN.search(cue) or _SEEN_ANY.search(cue):
                return self._last_seen(q, target(), when, now_s)
            raise _Failure(f'{q!r} asks "when" but not when something was last seen or first '
                           'appeared; those are the "when" questions I can answer')
        attribute = self._attribute(cue)
        if attribute and not _HABIT.search(cue):
            shape('AttributeOf', 'attribute')
            at, category = self._at(q, when, past, now_s)
            return AttributeOf(target(), attribute, at, self._category(cue, category))
        if _HABIT.search(cue) or _PREDICT.search(cue):
            shape('Usual', 'usual')
            if state_question and not where and not state:
                raise _Failure(f'{q!r} asks what state something is usually in; ask about one '
                               'state, e.g. "is the lamp usually on?"')
            category = (Category.PAST_PRESENT_FUTURE if _PREDICT.search(cue)
                        or _FUTURE.search(cue) else Category.MULTI_PAST)
            return Usual(target(), when.time_of_day if when is not None else '', category,
                         state='' if where else state)
        if where and (_FUTURE.search(cue) or (when is not None and when.is_future(now_s))):
            shape('Usual', 'usual')
            return Usual(target(), when.time_of_day if when is not None else '',
                         Category.PAST_PRESENT_FUTURE)
        if _SAME_AS.search(cue) or (_CHANGE.search(cue) and not where):
            shape('Changes', 'changes')
            require_known_scope_changes = not _SAME_AS.search(cue)
            if require_known_scope_changes and not has_object:
                require_known_scope()
            return self._changes(q, phrases, room_id, when, now_s, matched)
        contents = self._contents_place(cue, phrases, what_form, existential, has_object)
        if contents is not None:
            shape('Contents', 'contents')
            at, category = self._at(q, when, past, now_s)
            return self._contents(q, contents, phrases, room_id, at,
                                  self._category(cue, category), matched)
        if existential and not where and not (what_form and not has_object):
            if room_id and not has_object:
                shape('WhatIn', 'what_in')
                at, category = self._at(q, when, past, now_s)
                return WhatIn(room_id, at, self._category(cue, category))
            shape('Exists', 'exists')
            return self._exists(q, cue, target, phrases, support, room_id, when, past, now_s,
                                matched)
        if state_question and not where:
            shape('StateOf', 'state_of')
            at, category = self._at(q, when, past, now_s)
            return StateOf(target(), at, state, self._category(cue, category))
        if what_form and not has_object:
            shape('WhatIn', 'what_in')
            require_known_scope()
        if what_form and room_id and not has_object:
            shape('WhatIn', 'what_in')
            at, category = self._at(q, when, past, now_s)
            return WhatIn(room_id, at, category)
        seen = bool(_SEEN.search(cue))
        if (_YES_NO_BE.search(cue) and not _EXISTENTIAL.search(cue) and not where
                and not seen and not _LAST.search(cue)) and (
                room_id or support is not None or _STILL_THERE.search(cue)):
            shape('IsAt', 'is_at')
            return self._is_at(q, cue, target, room_id, support, when, past, now_s, matched)
        if where or seen or _LAST.search(cue) or (
                _YES_NO_BE.search(cue) and (room_id or matched.get('place'))):
            return self._where(q, cue, target, when, past, seen, now_s, matched)
        if what_form and room_id:
            shape('WhatIn', 'what_in')
            at, category = self._at(q, when, past, now_s)
            return WhatIn(room_id, at, category)
        if what_form and not room_id and not has_object and re.search(r'\bin\b', cue):
            shape('WhatIn', 'what_in')
            raise _Failure(f'{q!r} asks what is somewhere but names no room I know; known rooms:'
                           f' {self._room_list()}')
        raise _Failure(
            f'could not tell what {q!r} asks: none of the question forms I know (where is …, '
            'where was … on <day>, when did you last see …, is … still in <room>, how many … in '
            '<room>, is … open, what colour is …, what is on the <furniture>, is there any …, '
            'how long has … been …, what is in <room>, what changed since …, where is … '
            'usually, when did … first appear, where can I <do something>)')

    def _context_object(self, context: str) -> str:
        """The last object name the context before a question mentions ('' if none)."""
        text = _normalise(context)
        for expression in reversed(find_times(text, self.clock, 0.0)):
            lo, hi = expression.span
            text = f'{text[:lo]} {_SEP} {text[hi:]}'
        tokens = [t if re.fullmatch(r"[a-z0-9]+(?:'[a-z]+)?", t) else _SEP
                  for t in _TOKEN.findall(text)]
        spans = self._find_labels(tokens)
        if spans:
            return ' '.join(tokens[spans[-1].start:spans[-1].end])
        phrases = [p for p in self._phrases(tokens, []) if p.words and not _only_generic(p)
                   and p.determined]
        return ' '.join(phrases[-1].words) if phrases else ''

    # ------------------------------------------------------------ intents
    def intent_text(self, question: str) -> str:
        """The question as the intent classifier sees it: times and object names masked."""
        text = _normalise(question)
        for expression in reversed(find_times(text, self.clock, 0.0)):
            lo, hi = expression.span
            text = f'{text[:lo]} then {text[hi:]}'
        tokens = _TOKEN.findall(text)
        starts = {s.start: s for s in self._find_labels(tokens)}
        out, i = [], 0
        while i < len(tokens):
            if i in starts:
                out.append('thing')
                i = starts[i].end
            else:
                out.append(tokens[i])
                i += 1
        return ' '.join(out)

    @property
    def intents(self) -> IntentClassifier | None:
        """The intent classifier (None without an embedder)."""
        if self.embedder is None:
            return None
        if self._intents is None:
            self._intents = IntentClassifier(self.embedder, prepare=self.intent_text)
        return self._intents

    def _classify(self, question: str, matched: dict[str, Any]) -> str:
        classifier = self.intents
        assert classifier is not None
        intent = classifier.score(question)
        matched['intent'] = {'best': intent.best, 'score': round(intent.score, 3),
                             'second': intent.second, 'margin': round(intent.margin, 3)}
        if intent.score < self.min_intent_score or intent.margin < self.min_intent_margin:
            matched['unsure'] = f'{intent.best} or {intent.second}'
            raise _Failure(
                f'I am not sure what {question.strip()!r} asks: no question form I know fits '
                f'its words, and it reads about as much like {_SHAPE_WORDS[intent.best]} as '
                f'like {_SHAPE_WORDS[intent.second]}; please rephrase it')
        return intent.best

    # ------------------------------------------------------------ new shapes
    def _category(self, cue: str, category: Category) -> Category:
        """Refine a point-in-time category by what the words ask of memory."""
        if category is Category.PRESENT and _STILL.search(cue):
            return Category.PAST_PRESENT
        return category

    def _attribute(self, cue: str) -> str:
        m = _ATTRIBUTE.search(cue)
        if m is None:
            return ''
        word = next(g for g in m.groups() if g)
        if ' or ' in word:
            return 'temperature' if {'hot', 'cold'} & set(word.split()) else 'state'
        return _ATTRIBUTE_NAMES.get(word, word)

    def _retrieve(self, q: str, when: TimeExpression | None, now_s: float) -> Retrieve:
        at = TimeRange()
        category = Category.PRESENT
        if when is not None and when.kind is TimeKind.PERIOD and when.is_past(now_s):
            at, category = when.range, Category.PAST
        return Retrieve(q, at, category)

    def _duration(self, q: str, target: Callable[[bool], Target], phrases: list[_Phrase],
                  room_id: str, state: str, matched: dict[str, Any]) -> Duration:
        what = target(False)
        support = self._support(phrases)
        place = room_id or (self._read_support(support, matched) if support else '')
        return Duration(what, place, state)

    def _contents_place(self, cue: str, phrases: list[_Phrase], what_form: bool,
                        existential: bool, has_object: bool) -> _Phrase | None:
        """The furniture or container a "what is on / in …" question asks about, if any."""
        places = _places(phrases, _CONTENT_PREPOSITIONS)
        if not places:
            return None
        # Phrases after the place ("the drawer *of the cabinet*", "the shelf *above the TV*")
        # describe the place, not what is on it.
        others = [p for p in phrases if p not in places and not _only_generic(p)
                  and p.preceded_by not in _LOCATION_PREPOSITIONS and p.preceded_by != 'of']
        anything = bool(_ANYTHING.search(cue))
        if what_form and (not others or self._is_kind_filter(others, places)):
            return places[0]
        if (existential or anything) and anything and not others:
            return places[0]
        return None

    def _is_kind_filter(self, others: list[_Phrase], places: list[_Phrase]) -> bool:
        # "what drink is on the counter?": the one other phrase comes first, right after
        # "what"/"which".
        return len(others) == 1 and others[0].start < places[0].start and \
            others[0].preceded_by in ('what', 'which', 'any', 'some', '')

    def _contents(self, q: str, place: _Phrase, phrases: list[_Phrase], room_id: str,
                  at: TimeRange, category: Category, matched: dict[str, Any]) -> Contents:
        label = self._phrase_label(place)
        relation = _RELATIONS.get(place.preceded_by, '')
        others = [p for p in phrases if p is not place and not _only_generic(p)
                  and p.start < place.start]
        kind = ''
        if others:
            other = others[0]
            kind = self._phrase_label(other)
            matched['kind'] = kind
        matched.update(support=' '.join(place.words), support_label=label)  # the container
        return Contents(label, room_id, at, kind, relation, category)

    def _exists(self, q: str, cue: str, target: Callable[[bool], Target],
                phrases: list[_Phrase], support: _Phrase | None, room_id: str,
                when: TimeExpression | None, past: bool, now_s: float,
                matched: dict[str, Any]) -> Exists:
        what = target(False)
        label = ''
        if support is not None:
            label = self._read_support(support, matched)
        seen = bool(_SEEN_ANY.search(cue))
        at, category = self._at(q, when, past or seen, now_s)
        if seen and at.is_now:
            category = Category.PAST
        return Exists(what, room_id, at, self._category(cue, category), label)

    def _build_forced(self, shape: str, q: str, cue: str, phrases: list[_Phrase], state: str,
                      room_id: str, when: TimeExpression | None, past: bool, now_s: float,
                      matched: dict[str, Any], target: Callable[..., Target]) -> Query:
        """Fill the slots of a shape the intent classifier chose (no cue rule matched)."""
        matched['shape'] = shape
        matched['rule'] = f'classifier:{shape}'
        if shape == 'Retrieve':
            return self._retrieve(q, when, now_s)
        if shape == 'Duration':
            return self._duration(q, target, phrases, room_id, state, matched)
        if shape == 'Contents':
            places = _places(phrases, _CONTENT_PREPOSITIONS)
            if not places:
                raise _Failure(f'{q!r} reads as a question about what is on or in something, '
                               'but names no piece of furniture or container')
            at, category = self._at(q, when, past, now_s)
            return self._contents(q, places[0], phrases, room_id, at, category, matched)
        if shape == 'Exists':
            return self._exists(q, cue, target, phrases, self._support(phrases), room_id,
                                when, past, now_s, matched)
        if shape == 'WhatIn':
            if not room_id:
                raise _Failure(f'{q!r} reads as a question about what is in a room, but names '
                               f'no room I know; known rooms: {self._room_list()}')
            at, category = self._at(q, when, past, now_s)
            return WhatIn(room_id, at, category)
        if shape == 'Count':
            at, category = self._at(q, when, past, now_s)
            return Count(target(False), room_id, at, category)
        if shape == 'AttributeOf':
            at, category = self._at(q, when, past, now_s)
            return AttributeOf(target(), 'state' if state else 'color', at, category)
        if shape == 'StateOf':
            at, category = self._at(q, when, past, now_s)
            return StateOf(target(), at, state, self._category(cue, category))
        if shape == 'IsAt':
            return self._is_at(q, cue, target, room_id, self._support(phrases), when, past,
                               now_s, matched)
        if shape == 'Usual':
            return Usual(target(), when.time_of_day if when is not None else '',
                         Category.PAST_PRESENT_FUTURE if _FUTURE.search(cue)
                         else Category.MULTI_PAST)
        if shape == 'Changes':
            return self._changes(q, phrases, room_id, when, now_s, matched)
        if shape == 'WhenAppeared':
            return WhenAppeared(target())
        if shape in ('WhereIs', 'LastSeen', 'WhereWas', 'History'):
            return self._where(q, cue, target, when, past, shape == 'LastSeen', now_s,
                               matched)
        raise _Failure(f'could not tell what {q!r} asks')

    def _where(self, q: str, cue: str, target: Callable[[], Target],
               when: TimeExpression | None, past: bool, seen: bool, now_s: float,
               matched: dict[str, Any]) -> Query:
        timed = when is not None and when.kind is not TimeKind.NOW

        def rule(name: str, shape: str) -> None:
            matched['rule'] = name
            matched['shape'] = shape

        also = matched.get('also_times') or ()
        if also and when is not None:
            rule('where_was', 'WhereWas')
            ranges = [when, *also]
            if any(t.is_future(now_s) for t in ranges):
                raise _Failure(_future_error(next(t for t in ranges if t.is_future(now_s))))
            return WhereWas(target(), when.range, Category.MULTI_PAST,
                            tuple(t.range for t in also))
        if _HISTORY_STRONG.search(cue):
            rule('history', 'History')
            if timed and when is not None and when.kind is not TimeKind.TIME_OF_DAY:
                since, until = _since_until(when, now_s)
                return History(target(), since, until)
            return History(target())
        if _LAST.search(cue) or (seen and not timed):
            rule('last_seen', 'LastSeen')
            return self._last_seen(q, target(), when, now_s)
        if when is not None and (when.kind in (TimeKind.SINCE, TimeKind.BETWEEN) or (
                when.kind is TimeKind.PERIOD and _span_s(when) > DAY_S + 3 * 3600)):
            rule('history', 'History')
            since, until = _since_until(when, now_s)
            return History(target(), since, until)
        if _HISTORY.search(cue) and (not timed or _PERFECT.search(cue)):
            rule('history', 'History')
            if timed and when is not None and when.kind is TimeKind.PERIOD:
                since, until = _since_until(when, now_s)
                return History(target(), since, until)
            return History(target())
        if timed:
            assert when is not None
            if when.kind is TimeKind.TIME_OF_DAY and not past:
                rule('usual', 'Usual')
                return Usual(target(), when.time_of_day, Category.MULTI_PAST)
            if when.is_past(now_s) or past:
                rule('where_was', 'WhereWas')
                return WhereWas(target(), when.range)
        rule('where_is', 'WhereIs')
        return WhereIs(target())

    def _support(self, phrases: list[_Phrase]) -> _Phrase | None:
        """The furniture a yes/no location question names ("still on the sofa"), if any."""
        places = _places(phrases, _LOCATION_PREPOSITIONS)
        return places[0] if places and len(phrases) > len(places) else None

    def _is_at(self, q: str, cue: str, target: Callable[[bool], Target], room_id: str,
               support: _Phrase | None, when: TimeExpression | None, past: bool, now_s: float,
               matched: dict[str, Any]) -> IsAt:
        # The room is where to check, not which object: "is the mug still in the kitchen?"
        what = target(False)
        label = relation = ''
        if support is not None:
            words = ' '.join(support.words)
            label = self._phrase_label(support)
            relation = _RELATIONS.get(support.preceded_by, 'near')
            matched.update(support=words, support_label=label, relation=relation)
        at, category = self._at(q, when, past, now_s)
        if category is Category.PRESENT and _STILL.search(cue):
            category = Category.PAST_PRESENT
        return IsAt(what, room_id, label, relation, at, category)

    def _last_seen(self, q: str, target: Target, when: TimeExpression | None,
                   now_s: float) -> Query:
        if when is None or when.kind is TimeKind.NOW:
            return LastSeen(target)
        if when.kind is TimeKind.PERIOD and not when.is_future(now_s):
            return WhereWas(target, when.range)
        raise _Failure(f'{q!r} asks where something was last seen but names a time '
                       f'({when.text!r}) I cannot use there; ask about one past day or time')

    def _at(self, q: str, when: TimeExpression | None, past: bool,
            now_s: float) -> tuple[TimeRange, Category]:
        if when is None or when.kind is TimeKind.NOW:
            return TimeRange(text=when.text if when else ''), Category.PRESENT
        if when.kind in (TimeKind.SINCE, TimeKind.BETWEEN):
            raise _Failure(f'{q!r} names a stretch of time ({when.text!r}) but asks about one '
                           'moment; ask about one day or time instead')
        if when.is_future(now_s):
            raise _Failure(_future_error(when))
        present = when.contains(now_s) and not past
        return when.range, Category.PRESENT if present else Category.PAST

    def _changes(self, q: str, phrases: list[_Phrase], room_id: str,
                 when: TimeExpression | None, now_s: float, matched: dict[str, Any]) -> Changes:
        if when is None or when.kind is TimeKind.NOW:
            raise _Failure(f'{q!r} asks what changed but not since when; add a time such as '
                           '"since yesterday" or "since Monday"')
        if when.is_future(now_s):
            raise _Failure(_future_error(when))
        target = None
        if any(p.label is not None or not _only_generic(p) for p in phrases):
            target = self._target(q, phrases, '', matched)
        if _SAME_AS.search(_normalise(q)) and when.kind is TimeKind.PERIOD:
            # "still in the same spot as on Wednesday": Wednesday's last state against now.
            end = when.end_s if when.end_s is not None else now_s
            since = TimeRange(min(end, now_s) - 1e-3, None, when.text)
            return Changes(since, TimeRange(), room_id, target, Category.PAST_PRESENT)
        since, until = _since_until(when, now_s)
        # "Between Monday and Wednesday" compares two past days, even if the second is today.
        category = (Category.MULTI_PAST if not until.is_now or when.kind is TimeKind.BETWEEN
                    else Category.PAST_PRESENT)
        return Changes(since, until, room_id, target, category)

    # ---------------------------------------------------------------- pieces
    def _find_labels(self, tokens: list[str]) -> list[_Span]:
        spans: list[_Span] = []
        i = 0
        while i < len(tokens):
            found = None
            for k in range(min(self._max_label_words, len(tokens) - i), 0, -1):
                words = tokens[i:i + k]
                if _SEP in words:
                    continue
                hit = self._lookup_label(words)
                if hit is not None:
                    found = _Span(i, i + k, hit[0], hit[1], 1.0)
                    break
            if found is None:
                i += 1
            else:
                spans.append(found)
                i = found.end
        return spans

    def _lookup_label(self, words: list[str]) -> tuple[str, str] | None:
        head = words[-1]
        for form, how in _word_forms(head):
            label = self._labels.get((*words[:-1], form))
            if label is not None:
                return label, how
        return None

    def _find_room(self, tokens: list[str], labels: list[_Span], q: str,
                   matched: dict[str, Any]) -> _Span | None:
        starts = {s.start: s for s in labels}
        for i, token in enumerate(tokens):
            if token not in _ROOM_PREPOSITIONS:
                continue
            j = i + 1
            while j < len(tokens) and tokens[j] in _DETERMINERS:
                j += 1
            if j >= len(tokens) or tokens[j] == _SEP:
                continue
            for k in range(min(self._max_room_words, len(tokens) - j), 0, -1):
                room_id = self._rooms.get(tuple(tokens[j:j + k]))
                label = starts.get(j)
                if room_id is not None and (label is None or label.end - j <= k):
                    return _Span(i, j + k, room_id, 'exact', 1.0, ' '.join(tokens[j:j + k]))
            if tokens[j] in _HOME_WORDS:
                return _Span(i, j + 1, '', 'home', 1.0, tokens[j])
            if j in starts:
                # "in the fridge": a piece of furniture or an object, a place to look in.
                matched.setdefault('place', starts[j].value)
                continue
            if tokens[j] in _STOP_WORDS:
                continue
            words = []
            while (j + len(words) < len(tokens) and len(words) < 3
                   and tokens[j + len(words)] != _SEP
                   and tokens[j + len(words)] not in self._states
                   and (tokens[j + len(words)] not in _STOP_WORDS
                        or tokens[j + len(words)] in _ROOM_NOUNS)):
                words.append(tokens[j + len(words)])
            if not words:
                continue
            phrase = ' '.join(words)
            if len(words) > 1 and self._lookup_label(words[-1:]) is not None and \
                    words[-1] not in _ROOM_NOUNS:
                # "in the pantry cupboard": a piece of furniture to look in, not a room.
                matched.setdefault('place', phrase)
                continue
            for k in range(len(words) - 1, 0, -1):
                # "the master bedroom" is a bedroom: English names the kind last.
                room_id = self._room_names.get(tuple(words[-k:]))
                if room_id is not None:
                    return _Span(i, j + len(words), room_id, 'head', 1.0, phrase)
            if any(w in _PLACE_WORDS for w in words):
                matched['room_error'] = (f'unknown room {phrase!r} in {q.strip()!r}; known '
                                         f'rooms: {self._room_list()}')
                return _Span(i, j + len(words), '', 'unknown_room', 0.0, phrase)
            roomish = words[-1] in _ROOM_NOUNS or words[-1].endswith('room')
            if self.embedder is not None:
                if not roomish and self._open_label(words)[1] != 'literal':
                    # It reads as an object ("in the cupboard"): a place to look in, no room.
                    matched.setdefault('place', phrase)
                    continue
                hit = self._embed_room(phrase)
                if hit is not None:
                    return _Span(i, j + len(words), hit[0], 'embedding', hit[1], phrase)
            if roomish:
                matched['room_error'] = (f'unknown room {phrase!r} in {q.strip()!r}; known '
                                         f'rooms: {self._room_list()}')
                return _Span(i, j + len(words), '', 'unknown_room', 0.0, phrase)
            matched.setdefault('ignored', []).append(phrase)
            return _Span(i, j + len(words), '', 'unknown', 0.0, phrase)
        # A room named as a subject ("does the kitchen have …") needs no preposition.
        covered = {i for s in labels for i in range(s.start, s.end)}
        for i, token in enumerate(tokens):
            if token not in ('the', 'my', 'our'):
                continue
            for k in range(self._max_room_words, 0, -1):
                room_id = self._rooms.get(tuple(tokens[i + 1:i + 1 + k]))
                after = tokens[i + 1 + k] if i + 1 + k < len(tokens) else _SEP
                if after != _SEP and after not in _STOP_WORDS and after not in self._states:
                    continue  # "the kitchen island": a thing named after the room
                if room_id is not None and not covered & set(range(i + 1, i + 1 + k)):
                    return _Span(i, i + 1 + k, room_id, 'exact', 1.0,
                                 ' '.join(tokens[i + 1:i + 1 + k]))
        return None

    def _find_state(self, tokens: list[str]) -> str:
        found = []
        for i, token in enumerate(tokens):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else _SEP
            if token == 'on':
                # "on" is a state only where no noun follows ("is the lamp on?").
                if nxt not in (_SEP, 'or', 'still', 'again', 'anymore', 'yet', 'and', 'at'):
                    continue
            elif token == 'off' and nxt in _DETERMINERS:
                continue
            state = self._states.get(token)
            if state is not None and state not in found:
                found.append(state)
        return found[0] if len(found) == 1 else ''

    def _unpossess(self, token: str) -> str:
        # "the mug's usual place" is about the mug; "mom's mug" keeps its possessive.
        if token.endswith("'s") and self._lookup_label([token[:-2]]) is not None:
            return token[:-2]
        return token

    def _state_in_time(self, text: str, times: list[TimeExpression]) -> str:
        # "Was the lamp on yesterday?": the time expression swallowed the state word "on".
        if 'on' not in self._states:
            return ''
        for expression in times:
            before = _TOKEN.findall(text[:expression.span[0]])
            if (expression.text.lower().startswith('on ') and before
                    and (self._lookup_label(before[-1:]) is not None or before[-1] == 'it')):
                return self._states['on']
        return ''

    def _phrases(self, tokens: list[str], labels: list[_Span]) -> list[_Phrase]:
        by_start = {s.start: s for s in labels}
        covered = {i for s in labels for i in range(s.start, s.end)}
        phrases: list[_Phrase] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token == _SEP or (i not in covered and (token in _STOP_WORDS
                                                        or _is_determiner(token)
                                                        or token in self._states)):
                i += 1
                continue
            start = i
            words: list[str] = []
            label: _Span | None = None
            while i < len(tokens):
                t = tokens[i]
                if i in by_start:
                    label = by_start[i]
                    words.extend(tokens[i:label.end])
                    i = label.end
                    continue
                if t == _SEP or t in _STOP_WORDS or _is_determiner(t) or t in self._states:
                    break
                words.append(t)
                i += 1
            if label is not None and label.end != start + len(words):
                # The name is not the head ("notebook computer"): match the whole phrase.
                label = None
            prev, determined = _previous_word(tokens, start)
            color = ''
            while words and words[0] in self._colors and len(words) > 1:
                color = self._colors[words.pop(0)]
            phrases.append(_Phrase(start, words, label, color, prev, determined))
        return phrases

    def _target(self, q: str, phrases: list[_Phrase], room_id: str,
                matched: dict[str, Any]) -> Target:
        candidates = [p for p in phrases if p.words and not _only_generic(p)
                      and not (len(p.words) == 1 and p.words[0] in self._colors)]
        if not candidates:
            raise _Failure(f'could not tell which object {q!r} is about: it names no object '
                           '(say which, e.g. "the red mug")')

        def rank(p: _Phrase) -> tuple[int, int]:
            score = 2 if p.label is not None else 0
            score += 1 if p.determined or p.preceded_by == 'many' else 0
            score -= 3 if p.preceded_by in _LOCATION_PREPOSITIONS else 0
            return score, -p.start

        best = max(candidates, key=rank)
        text = ' '.join(([best.color] if best.color else []) + best.words)
        matched['target'] = text
        if best.label is not None:
            label, how, score = best.label.value, best.label.how, 1.0
        else:
            label, how, score = self._open_label(best.words)
        matched.update(label=label, label_match=how)
        if how == 'embedding':
            matched['label_score'] = round(score, 3)
        if best.color:
            matched['color'] = best.color
        return Target(label, best.color, room_id, text)

    def _read_support(self, support: _Phrase, matched: dict[str, Any]) -> str:
        """The class of the furniture a question names, recorded in `matched`."""
        label = self._phrase_label(support)
        matched.update(support=' '.join(support.words), support_label=label)
        return label

    def _phrase_label(self, phrase: _Phrase) -> str:
        """The class a noun phrase names: its vocabulary label, else the open-vocabulary one."""
        return phrase.label.value if phrase.label is not None else \
            self._open_label(phrase.words)[0]

    def _open_label(self, words: list[str]) -> tuple[str, str, float]:
        phrase = ' '.join(words)
        if self.embedder is not None and self._label_names:
            names = [' '.join(k) for k in self._label_names]
            matrix = self._label_embeddings()
            queries = [_LABEL_TEMPLATE.format(phrase)]
            if len(words) > 1:
                # Average with the head noun: English compounds name their kind last.
                queries.append(_LABEL_TEMPLATE.format(words[-1]))
            scores = (matrix @ self.embedder.embed(queries).T).mean(axis=1)
            order = np.argsort(-scores)
            best = float(scores[order[0]])
            margin = best - float(scores[order[1]]) if len(order) > 1 else best
            literal = '_'.join([*words[:-1], _singular(words[-1])])
            if literal in self.taxonomy.classes and best < self.min_class_synonym_score:
                # A class of its own ("toolbox", "cup"): not another class it resembles.
                return literal, 'class', 0.0
            if best >= self.min_label_score and margin >= self.min_label_margin:
                name = names[int(order[0])]
                return self._labels[tuple(name.split())], 'embedding', best
        literal = '_'.join([*words[:-1], _singular(words[-1])])
        return literal, 'literal', 0.0

    def _label_embeddings(self) -> np.ndarray:
        if self._label_matrix is None:
            assert self.embedder is not None
            self._label_matrix = self.embedder.embed(
                [_LABEL_TEMPLATE.format(' '.join(k)) for k in self._label_names])
        return self._label_matrix

    def _room_embeddings(self) -> np.ndarray:
        if self._room_matrix is None:
            assert self.embedder is not None
            self._room_rows = list(self._rooms.values())
            self._room_matrix = self.embedder.embed(
                [_ROOM_TEMPLATE.format(' '.join(k)) for k in self._rooms])
        return self._room_matrix

    def _embed_room(self, phrase: str) -> tuple[str, float] | None:
        assert self.embedder is not None
        if not self._rooms:
            return None
        scores = self._room_embeddings() @ self.embedder.embed(
            _ROOM_TEMPLATE.format(phrase))[0]
        per_room: dict[str, float] = {}
        for room_id, score in zip(self._room_rows, scores, strict=True):
            per_room[room_id] = max(per_room.get(room_id, -1.0), float(score))
        ranked = sorted(per_room.items(), key=lambda kv: -kv[1])
        best = ranked[0][1]
        margin = best - ranked[1][1] if len(ranked) > 1 else best
        if best >= self.min_room_score and margin >= self.min_room_margin:
            return ranked[0]
        return None

    def _room_list(self) -> str:
        return ', '.join(sorted({_human(n) for n in self.vocabulary.rooms}))


# -------------------------------------------------------------------- helpers
def _normalise(question: str) -> str:
    text = question.lower().replace('\u2019', "'").replace('\u2018', "'").replace('`', "'")
    text = re.sub(r'(?<!\d)-|-(?!\d)|[_/]', ' ', text)  # keep ISO dates (2026-11-03)
    text = re.sub(r"\b([a-z]+s)'(?=\s|$)", r'\1', text)  # the kids' room → the kids room
    text = re.sub(r'\bin front of\b', 'by', text)
    text = re.sub(r'\bon top of\b', 'on', text)
    text = re.sub(r'\binside of\b', 'inside', text)
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return ' '.join(text.split())


def _shape_category(shape: str, cue: str, when: TimeExpression | None,
                    now_s: float) -> Category:
    """What a question of a shape needs from memory, from its words and time alone (used
    where its slots could not all be filled)."""
    timed = when is not None and when.kind is not TimeKind.NOW
    past_time = timed and when is not None and not when.contains(now_s) and \
        when.kind is TimeKind.PERIOD
    if shape == 'Usual':
        return (Category.PAST_PRESENT_FUTURE if _PREDICT.search(cue) or _FUTURE.search(cue)
                else Category.MULTI_PAST)
    if shape in ('Duration', 'History'):
        return Category.MULTI_PAST
    if shape == 'Changes':
        if when is not None and when.kind is TimeKind.BETWEEN:
            return Category.MULTI_PAST
        return Category.PAST_PRESENT
    if shape in ('WhenAppeared', 'LastSeen', 'WhereWas'):
        return Category.PAST
    if past_time or (shape == 'Exists' and _SEEN_ANY.search(cue)):
        return Category.PAST
    if _STILL.search(cue):
        return Category.PAST_PRESENT
    return Category.PRESENT


def _last_question(question: str, clauses: bool = True) -> str:
    """The last sentence (with `clauses`, also the clause after "so" / a comma) of a question
    with context before it; '' when there is nothing before it."""
    text = question.strip()
    pattern = r'(?<=[.!?;:])\s+'
    if clauses:
        pattern += r'|,\s+(?:so\s+|but\s+|and\s+)?|\s+so\s+(?=[a-z])'
    parts = re.split(pattern, text)
    parts = [p for p in parts if p.strip()]
    if len(parts) < 2:
        return ''
    return parts[-1].strip()


def _main_time(times: list[TimeExpression], question: str,
               text: str) -> tuple[TimeExpression | None, list[TimeExpression]]:
    """The time a question asks about, and further times joined to it by "and"."""
    timed = [t for t in times if t.kind is not TimeKind.NOW]
    if len(timed) > 1:
        joined = all(t.kind is TimeKind.PERIOD for t in timed) and all(
            re.fullmatch(r'[\s,]*(?:and|&|then|as well as)?(?:\s+(?:then|also))?\s*'
                         r'(?:on\s+)?', text[a.span[1]:b.span[0]])
            for a, b in itertools.pairwise(timed))
        if joined:
            return timed[0], timed[1:]
        names = ', '.join(repr(t.text) for t in timed)
        raise _Failure(f'{question.strip()!r} names more than one time ({names}); ask about '
                       'one')
    if timed:
        return timed[0], []
    return (times[0] if times else None), []


def _span_s(when: TimeExpression) -> float:
    if when.start_s is None or when.end_s is None:
        return float('inf')
    return when.end_s - when.start_s


def _since_until(when: TimeExpression, now_s: float) -> tuple[TimeRange, TimeRange]:
    """`Changes`/`History` ends: `since` keeps the start, `until` the end (None: now)."""
    since = TimeRange(when.start_s, None, when.text)
    if when.end_s is None or when.end_s > now_s:
        return since, TimeRange()
    return since, TimeRange(None, when.end_s, when.text)


def _future_error(when: TimeExpression) -> str:
    text = re.sub(r'^on\s+', '', when.text)
    return (f'{text!r} is in the future; memory knows only the past and the present (ask '
            'where something usually is for a prediction)')


def _word_forms(word: str) -> list[tuple[str, str]]:
    """The word, its singular guesses, and plural guesses (for labels such as 'keys')."""
    forms = [(word, 'exact')]
    if word.endswith('ies') and len(word) > 4:
        forms.append((word[:-3] + 'y', 'plural'))
    if word.endswith('ves') and len(word) > 4:
        forms += [(word[:-3] + 'f', 'plural'), (word[:-3] + 'fe', 'plural')]
    if word.endswith('es') and len(word) > 3:
        forms.append((word[:-2], 'plural'))
    if word.endswith('s') and len(word) > 2:
        forms.append((word[:-1], 'plural'))
    forms += [(word + 's', 'singular'), (word + 'es', 'singular')]
    return forms


def _singular(word: str) -> str:
    if word.endswith('ies') and len(word) > 4:
        return word[:-3] + 'y'
    if re.search(r'(?:ss|x|ch|sh)es$', word):
        return word[:-2]
    if word.endswith('s') and not word.endswith('ss') and len(word) > 3:
        return word[:-1]
    return word


def _previous_word(tokens: list[str], index: int) -> tuple[str, bool]:
    """The word before a phrase, skipping determiners, and whether there was one."""
    i = index - 1
    determined = False
    while i >= 0 and _is_determiner(tokens[i]):
        determined = True
        i -= 1
    return (tokens[i] if i >= 0 else ''), determined


def _is_determiner(token: str) -> bool:
    return token in _DETERMINERS or token.endswith("'s")


def _places(phrases: list[_Phrase], prepositions: frozenset[str]) -> list[_Phrase]:
    """The phrases that name a place after one of `prepositions` ("on *the sofa*")."""
    return [p for p in phrases if p.preceded_by in prepositions and p.words
            and not _only_generic(p)]


def _only_generic(phrase: _Phrase) -> bool:
    return phrase.label is None and all(w in _GENERIC_NOUNS for w in phrase.words)
