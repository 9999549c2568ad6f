"""Small rules of English for answers: number, articles and the names of days and months."""

from __future__ import annotations

import re

__all__ = ['article', 'be', 'is_plural', 'sentence_start', 'time_words']

# Class names that are plural however many there are ("the glasses are black").
_PLURAL_ONLY = frozenset({
    'glasses', 'keys', 'scissors', 'headphones', 'earphones', 'trousers', 'pants', 'jeans',
    'shorts', 'pliers', 'tongs', 'binoculars', 'clothes', 'sunglasses', 'slippers', 'socks',
    'gloves', 'shoes', 'boots', 'tweezers', 'goggles', 'chopsticks',
})
_NAMES = re.compile(r'\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|'
                    r'february|march|april|may|june|july|august|september|october|november|'
                    r'december)\b', re.IGNORECASE)


def is_plural(label: str) -> bool:
    """Whether a class name takes a plural verb ('glasses', 'keys'; not 'mug', 'glass')."""
    return label.replace('_', ' ').split(' ')[-1].lower() in _PLURAL_ONLY


def be(label: str, past: bool = False) -> str:
    """'is'/'are', or 'was'/'were' with `past`, as the class name's number asks."""
    plural = is_plural(label)
    if past:
        return 'were' if plural else 'was'
    return 'are' if plural else 'is'


def article(words: str) -> str:
    """'a mug', 'an umbrella', 'some glasses'."""
    if is_plural(words):
        return f'some {words}'
    return f'an {words}' if words[:1].lower() in 'aeiou' and words else f'a {words}'


def time_words(text: str) -> str:
    """A time expression with its days and months capitalised ('since Wednesday');
    'may' is left alone unless a day number follows ('May 3')."""
    def name(m: re.Match[str]) -> str:
        word = m.group(1)
        if word.lower() == 'may' and not re.match(r'\s+\d', text[m.end():]):
            return word
        return word.capitalize()

    return _NAMES.sub(name, text)


def sentence_start(text: str) -> str:
    """`text` with its first letter upper-case and the rest untouched (unlike str.capitalize,
    which lowers 'Tuesday' in 'on Tuesday')."""
    return text[:1].upper() + text[1:]
