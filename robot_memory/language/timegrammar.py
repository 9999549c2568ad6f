"""The grammar of time expressions: their words and regular-expression patterns, as data.

`robot_memory.language.timeexpr` finds these patterns in a question and resolves each match
on the memory clock's calendar; its docstring says which forms there are and what they mean.
The compiled patterns at the end match one expression already found and carry the named
groups the resolver reads.
"""

from __future__ import annotations

import re

from robot_memory.core.clock import WEEKDAYS

# -- words ----------------------------------------------------------------------------------
WEEKDAY_INDEX = {name.lower(): i for i, name in enumerate(WEEKDAYS)}
MONTH_INDEX = {name: i for i, name in enumerate(
    ('jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'), 1)}
NUMBER_WORDS = {
    'a': 1, 'an': 1, 'one': 1, 'two': 2, 'three': 3, 'four': 4, 'five': 5, 'six': 6,
    'seven': 7, 'eight': 8, 'nine': 9, 'ten': 10, 'eleven': 11, 'twelve': 12,
    'a couple of': 2, 'couple of': 2, 'a few': 3, 'few': 3,
}
MEALS = {'breakfast': 'morning', 'lunch': 'afternoon', 'lunchtime': 'afternoon',
         'dinner': 'evening', 'dinnertime': 'evening', 'supper': 'evening',
         'bedtime': 'night', 'bed': 'night', 'sleep': 'night'}
# The part of the day *before* a meal, where it differs from the meal's own part.
BEFORE_MEALS = {'lunch': 'morning', 'lunchtime': 'morning', 'dinner': 'afternoon',
                'dinnertime': 'afternoon', 'supper': 'afternoon'}


# -- patterns -------------------------------------------------------------------------------
# Sub-patterns carry no named groups so that they can be nested twice ("between X and Y");
# each alternative is resolved afterwards by matching it alone with its own named groups.
NUM = (r'(?:\d{1,3}|a\s+couple\s+of|couple\s+of|a\s+few|few|an|a|one|two|three|four|five'
       r'|six|seven|eight|nine|ten|eleven|twelve)')
WEEKDAY = r'(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)'
PART = r'(?:morning|afternoon|evening|night)'
MONTH = (r'(?:january|february|march|april|may|june|july|august|september|october|november'
         r'|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)(?![a-z])\.?')
DATE_NUMBER = r'\d{1,2}(?:st|nd|rd|th)?(?![0-9a-z])'
YEAR = r'(?:,?\s+(?:19|20)\d{2}(?![0-9:]))'
DATE = (rf'(?:\d{{4}}-\d{{2}}-\d{{2}}(?![0-9])'
        rf'|{MONTH}\s+(?:the\s+)?{DATE_NUMBER}{YEAR}?'
        rf'|(?:the\s+)?{DATE_NUMBER}\s+(?:of\s+)?{MONTH}{YEAR}?)')
DAY = (rf'(?:(?:on\s+)?(?:the\s+day\s+before\s+yesterday|yesterday|today|tomorrow'
       rf'|{NUM}\s+(?:days?|weeks?)\s+ago'
       rf'|(?:last\s+|this\s+|past\s+)?{WEEKDAY}|{DATE}))')
AROUND_WORDS = ('around', 'about', 'approximately', 'roughly')
AROUND = f'(?:{"|".join(AROUND_WORDS)})'
AT = rf'(?:at\s+{AROUND}|at|{AROUND})'
HM = r'\d{1,2}(?::\d{2})?'
CLOCK_PART = rf"(?:{HM}(?:\s*o'clock)?\s+(?:in\s+the\s+{PART}|at\s+night))"
CLOCK_MARKED = (rf"(?:{HM}\s*(?:am|pm|a\.m\.|p\.m\.)(?![a-z])|\d{{1,2}}\s*o'clock"
                r'|\d{1,2}:\d{2}|noon|midday|midnight)')
# A bare hour ("at 9") only before the end, a punctuation mark or a word that may follow a
# time, so that "at 21 degrees" and "about 3 mugs" are no times.
AFTER_BARE_HOUR = (r'(?:on|in|at|yesterday|today|tomorrow|tonight|this|last|past|the|and|or'
                   r'|to|until|till|through|thru|before|after|when|while|then|but|so|please'
                   r'|two|three|four|five|six|seven|eight|nine|ten|a\s+few|a\s+couple'
                   rf'|{WEEKDAY})(?![a-z])')
CLOCK_BARE = rf'(?:\d{{1,2}}(?=\s*(?:$|[?!;)]|[.,:](?!\d))|\s+{AFTER_BARE_HOUR}))'
CLOCK = rf'(?:{CLOCK_PART}|{CLOCK_MARKED}|{CLOCK_BARE})'
MEAL = (r'(?:(?:after|before|at|during)\s+(?:breakfast|lunch|dinner|supper)(?:\s*time)?'
        r'|(?:before|at)\s+bed\s*time|before\s+(?:going\s+to\s+)?(?:bed|sleep))')
WEEKEND = r'(?:(?:at|on|over|during)\s+)?the\s+weekend'
PART_PHRASE = (rf'(?:{DAY}\s+(?:in\s+the\s+|at\s+|during\s+the\s+)?{PART}'
               rf'|(?:this|tomorrow)\s+{PART}|last\s+night|tonight)')


# Alternatives that share a head are factored ("yesterday", "yesterday at 9", "yesterday
# morning at 9"), so that a day is tried once per word; longer continuations come first.
CLOCK_AT = rf'(?:{AT}\s+{CLOCK})'
POINT = (rf'(?:{DAY}(?:\s+(?:(?:in\s+the\s+|at\s+|during\s+the\s+)?{PART}'
         rf'(?:\s+{CLOCK_AT})?|{CLOCK_AT}|{CLOCK_MARKED}|{MEAL}))?'
         rf'|{CLOCK_AT}(?:\s+(?:{PART_PHRASE}|{DAY}))?'
         rf'|(?:(?:this|tomorrow)\s+{PART}|last\s+night|tonight)(?:\s+{CLOCK_AT})?'
         rf'|{MEAL}\s+{DAY}|earlier\s+(?:today|this\s+week)|the\s+other\s+day|{WEEKEND}'
         rf'|{CLOCK_MARKED}|(?:{NUM}|half\s+an?)\s+(?:hours?|minutes?|mins?)\s+ago'
         rf'|(?:this|last)\s+(?:week|weekend))')
NOW = (r'(?:right\s+now|just\s+now|as\s+of\s+now|now|currently|presently'
       r'|at\s+the\s+moment|at\s+this\s+moment|at\s+present)')
TIME_OF_DAY = (r'(?:(?:in|during)\s+the\s+(?P<a>morning|afternoon|evening)s?'
               r'|at\s+(?P<b>night)|(?:every|each)\s+(?P<c>morning|afternoon|evening|night)'
               r'|(?P<d>morning|afternoon|evening|night)s|(?P<e>overnight)'
               rf'|(?P<f>{MEAL}))')


# Date and time words, for `unused_time_words`. "may" and "march" (ordinary words) and "jan"
# and "mar" (a name, a verb) count only next to a day number.
MONTH_ALONE = (r'(?:january|february|april|june|july|august|september|october|november'
               r'|december|feb|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?')
TIME_WORDS = re.compile(
    r'(?<![a-z0-9])(?:\d{4}-\d{2}-\d{2}'
    rf'|{MONTH}\s+(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?'
    rf'|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH}|{MONTH_ALONE}|{WEEKDAY}'
    r"|\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|(?:\d{1,2}\s*)?o'clock|\d{1,2}:\d{2}"
    r'|weekends?|noon|midday|midnight|yesterday|tomorrow)(?![a-z0-9])')


# -- the parts of one date or clock time ------------------------------------------------------
ISO_DATE = re.compile(r'(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})')
MONTH_DAY = re.compile(
    rf'(?P<month>{MONTH})\s+(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{{4}}))?')
DAY_MONTH = re.compile(
    rf'(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{MONTH})'
    rf'(?:,?\s+(?P<y>\d{{4}}))?')
DAYS_AGO = re.compile(rf'({NUM})\s+(days?|weeks?)\s+ago')
NAMED_WEEKDAY = re.compile(rf'(?:(last|this|past)\s+)?({WEEKDAY})')
CLOCK_VALUE = re.compile(
    r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?:(?P<ampm>[ap])\.?m\.?|o'clock)?"
    r'(?:\s+(?:in\s+the|at)\s+(?P<part>morning|afternoon|evening|night))?')
