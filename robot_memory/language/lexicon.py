"""The parser's lexicon: the words it knows, as plain data (no logic).

The default vocabulary (household labels, colours, states, rooms), synonyms people use for
them, the closed word classes (determiners, prepositions, stop words), contractions, the
tokeniser, and the texts the embedder sees. The cue patterns that decide a question's shape
are in `robot_memory.language.cues`.
"""

from __future__ import annotations

import re

from robot_memory.core.queries import STATE_PAIRS
from robot_memory.perception.classes import FURNITURE_CLASSES

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
# `robot_memory.core.queries.STATE_PAIRS`: what perception observes, and states people ask
# about that it does not (yet) observe ("is the bed made?"), answered as never observed.
DEFAULT_STATES: tuple[str, ...] = tuple(s for pair in STATE_PAIRS for s in pair)
DEFAULT_ROOMS: tuple[str, ...] = (
    'kitchen', 'living_room', 'bedroom', 'bathroom', 'study', 'hallway', 'dining_room',
)

COLOR_SYNONYMS = {'gray': 'grey', 'golden': 'gold', 'violet': 'purple'}
# Words a person uses for a state, mapped to the vocabulary's state names.
STATE_SYNONYMS = {'opened': 'open', 'shut': 'closed', 'running': 'on', 'ajar': 'open',
                  'lit': 'on', 'unlit': 'off', 'tidy': 'clean', 'messy': 'dirty',
                  'unclean': 'dirty', 'clear': 'empty', 'filled': 'full',
                  'plugged': 'plugged_in'}
# Position words that name a state only at the end of a yes/no question ("are the blinds
# down?"), never after a verb ("where did it end up?").
POSITION_STATES = {'down': 'closed', 'up': 'open', 'lowered': 'closed', 'raised': 'open'}
# Common names of the same room; the vocabulary's own names always win over these.
ROOM_SYNONYMS: dict[str, tuple[str, ...]] = {
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
PLACE_WORDS = frozenset({
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
ROOM_NOUNS = frozenset({'room', 'rooms', 'area', 'space'})
HOME_WORDS = frozenset({'house', 'home', 'apartment', 'flat', 'building', 'place', 'warehouse',
                        'facility', 'premises', 'site', 'shop', 'store'})
ROOM_PREPOSITIONS = frozenset({
    'in', 'inside', 'into', 'within', 'from', 'at', 'around', 'across', 'throughout', 'through',
})
DETERMINERS = frozenset({
    'the', 'a', 'an', 'my', 'our', 'your', 'his', 'her', 'their', 'its', 'this', 'that',
    'these', 'those', 'any', 'some', 'all', 'every', 'each',
})
# Before a noun phrase these make it a place, not the thing asked about ("the mug on the desk").
LOCATION_PREPOSITIONS = frozenset({
    'on', 'in', 'inside', 'under', 'underneath', 'below', 'beneath', 'above', 'over', 'near',
    'beside', 'behind', 'next', 'by', 'at', 'into', 'onto', 'around', 'between', 'against',
    'from', 'to', 'atop',
})
STOP_WORDS = frozenset({
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
# Heads of noun phrases that name people, and things that are not objects a camera sees: a
# question about them is one memory cannot answer (`Unanswerable`), whatever its shape.
PEOPLE_NOUNS = frozenset({
    'mum', 'mom', 'mother', 'dad', 'father', 'parent', 'parents', 'wife', 'husband', 'partner',
    'kid', 'kids', 'child', 'children', 'son', 'daughter', 'baby', 'grandma', 'grandpa',
    'granny', 'grandmother', 'grandfather', 'sister', 'brother', 'guest', 'guests', 'visitor',
    'visitors', 'neighbour', 'neighbor', 'neighbours', 'neighbors', 'boss', 'colleague',
    'colleagues', 'person', 'people', 'family', 'roommate', 'flatmate', 'friend', 'friends',
    'boyfriend', 'girlfriend', 'nanny', 'plumber', 'postman', 'courier', 'staff',
    'nurse', 'doctor', 'patient', 'resident', 'residents', 'tenant', 'owner', 'landlord',
})
NOT_THINGS = frozenset({
    'power', 'electricity', 'wifi', 'internet', 'password', 'weather', 'forecast', 'news',
    'meeting', 'appointment', 'birthday', 'anniversary', 'deadline', 'bill', 'bills', 'rent',
    'budget', 'schedule', 'plan', 'plans', 'music', 'noise', 'smell', 'mood', 'problem',
    'reason', 'email', 'emails', 'traffic', 'score', 'price', 'temperature', 'recipe',
    'signal', 'reception', 'weekend', 'holiday', 'holidays', 'life', 'point', 'answer',
})
GENERIC_NOUNS = frozenset({'thing', 'things', 'stuff', 'object', 'objects', 'item', 'items',
                           'everything', 'anything'})

CONTRACTIONS = [
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
# A token is a word (with its possessive) or one other character; SEP stands in for a time or
# a room masked out of the tokens, and for punctuation.
TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")
SEP = '|'

# Before a noun phrase these name the furniture or container a contents question asks about.
CONTENT_PREPOSITIONS = frozenset({'on', 'in', 'inside', 'under', 'atop', 'upon', 'within',
                                  'into', 'onto', 'underneath', 'beneath'})

# Words for an attribute → the attribute's name in a query.
ATTRIBUTE_NAMES = {'colour': 'color', 'colours': 'color', 'colors': 'color',
                   'status': 'state', 'condition': 'state', 'setting': 'state',
                   'mode': 'state'}

# How an unsure parse names the shapes it hesitates between.
SHAPE_WORDS = {
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
RELATIONS = {'on': 'on', 'onto': 'on', 'atop': 'on', 'upon': 'on', 'in': 'in', 'inside': 'in',
             'into': 'in', 'within': 'in'}

# The relation a "what is <words> X?" question asks (`Relation.relation`).
RELATION_NAMES = {'next to': 'near', 'beside': 'near', 'near': 'near', 'nearby': 'near',
                  'close to': 'near', 'by': 'near', 'left of': 'left_of',
                  'right of': 'right_of', 'above': 'above', 'over': 'above',
                  'below': 'below', 'behind': 'behind', 'between': 'between'}
# Words before the thing a relation is measured from ("next *to* the kettle").
ANCHOR_WORDS = frozenset({'to', 'of', 'beside', 'near', 'nearby', 'above', 'over', 'below',
                          'behind', 'between', 'by'})

# The texts the embedder sees for a label / a room name.
LABEL_TEMPLATE = 'a photo of a {}'
ROOM_TEMPLATE = 'the {}'
