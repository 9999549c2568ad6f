"""Which shape a question has, by similarity to example questions (the intent classifier).

The cue rules of `robot_memory.language.shapes` find the shape from cue words where those are
exact ("how many", "what colour", "how long"). Where no rule fires, or to check a rule, the
question is embedded with the shipped sentence model and compared with the examples below: a
type's score is the similarity to the mean of its examples (a prototype). The examples are written
for this project in many styles (polite, terse, indirect, non-native, with context first); they
are not a benchmark's questions. A small margin between the two best types means the parser
should say it is unsure rather than guess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from robot_memory.language.embeddings import Embedder

__all__ = ['EXAMPLES', 'IntentClassifier', 'IntentScore']

EXAMPLES: dict[str, tuple[str, ...]] = {
    'WhereIs': (
        'where is the stapler', 'where did my scarf get to', 'can you help me find my purse',
        'I need my headphones, where are they', 'do you know where the tape measure is',
        'any clue where the kids put the ball', 'which room has my sweater right now',
        'locate the cordless vacuum please', 'where are the car keys at the moment',
        'where my glasses are now?', 'whereabouts is the blue thermos',
        'I lost the tv remote again, where is it'),
    'LastSeen': (
        'when did you last see the stapler', 'where did you last notice my scarf',
        'have you seen my purse', 'did you spot my headphones anywhere',
        'what was the last place you saw the ladder', 'when was my bike last seen',
        'you saw my wallet somewhere?', 'have you come across the spare key',
        'did you happen to see my reading glasses', 'last time you saw the drill, where was it'),
    'WhereWas': (
        'where was the stapler yesterday', 'where was my scarf on friday afternoon',
        'which room was the ladder in this morning', 'where had the vacuum been left on sunday',
        'where did the kids leave the ball last night', 'on monday where was my bike',
        'where was the suitcase two days ago', 'where was the mop at 3 pm',
        'where was the drill on tuesday and on thursday'),
    'History': (
        'where has the stapler been this week', 'which rooms has the ladder been in since monday',
        'show me all the places the cart went today', 'trace the vacuum cleaner since friday',
        'list every spot my bike has been over the past few days',
        'where all did the trolley travel yesterday', 'what is the history of the toolbox',
        'follow the movements of the mop since the weekend'),
    'IsAt': (
        'is the stapler on the desk', 'is my scarf still in the hallway',
        'is the bike in the garage', 'was the ladder in the shed yesterday',
        'is the ball still under the sofa', 'are my keys on the hook',
        'I wonder if the laptop is still in the study',
        'can you confirm the mop is in the bathroom',
        'is the trolley still by the entrance'),
    'Count': (
        'how many chairs are in the kitchen', 'how many cups are on the table',
        'count the boxes in the garage', 'what number of pallets is in aisle 4',
        'how many books did you see in the study yesterday', 'tally the plates in the cupboard',
        'how many pens do we have', 'number of bottles in the fridge?'),
    'StateOf': (
        'is the oven on', 'is the window open', 'did someone leave the fridge door open',
        'was the heater on last night', 'is the light in the hall switched off',
        'is the front door locked', 'is the washing machine still running',
        'did anyone turn off the tv', 'was the garage door closed this morning'),
    'AttributeOf': (
        'what colour is the rug', 'what color are my sneakers', 'what state is the dishwasher in',
        'is the laptop open or closed', 'is the fan on or off',
        'what is the status of the printer',
        'tell me the colour of the armchair', 'what colour was the bag yesterday',
        'which colour is the kettle', 'what condition is the door in'),
    'WhatIn': (
        'what is in the kitchen', 'what do you see in the living room',
        'list everything in the garage', 'what was in the hallway yesterday',
        'tell me what is in the study', 'which things are in the bathroom',
        'what does the bedroom contain', 'describe the dining room',
        'show me what is in aisle 3', 'what is in there in the office right now'),
    'Contents': (
        'what is on the coffee table', 'what is in the fridge', 'what is on my desk',
        'is there anything on the counter', 'what was on the dining table yesterday',
        'what fruit is in the bowl', 'what is inside the cabinet', 'anything left on the shelf?',
        'what have you seen on the nightstand', 'what is lying on the sofa',
        'what drink is on the counter', 'list what is in the wardrobe'),
    'Exists': (
        'is there any apple', 'do we have any milk', 'have you seen a hammer anywhere',
        'are there boxes in the hallway', 'were there any cups in the kitchen yesterday',
        'is there a charger in the bedroom', 'any bananas left?', 'do you see any towels',
        'I am hungry, is there some fruit around', 'is there still a box in the corridor',
        'did you see any umbrellas in the house'),
    'Changes': (
        'what changed in the kitchen since yesterday', 'has anyone moved my keys since monday',
        'did the cart move between tuesday and thursday', 'is anything different in the study',
        'is the lamp still in the same place as on friday', 'was anything rearranged today',
        'what moved since this morning', 'has my desk been touched since I left',
        'did something change in aisle 2 over the weekend'),
    'Usual': (
        'where is the remote usually', 'where do the scissors normally go',
        'where does the ladder belong', 'where is the vacuum kept',
        'is the kettle usually on in the morning', 'where will the backpack be tonight',
        'where should I look for the umbrella', 'where would be a good place to keep the charger',
        'where does my bag tend to end up', 'where do you typically find the broom'),
    'WhenAppeared': (
        'when did the plant first appear', 'when did the new chair arrive',
        'when was the box delivered', 'when did you first see the painting',
        'since what day has the lamp been here at all', 'what day did the crate show up',
        'when did the rug turn up', 'when was the first time you noticed the bike'),
    'Duration': (
        'how long has the package been by the door', 'how long has the laptop been open',
        'since when is the box in the hallway', 'how long have the shoes been on the rack',
        'how many days has the cart been in aisle 1', 'for how long was the oven on',
        'how long has the pallet been sitting there'),
    'Retrieve': (
        'where can I make coffee', 'where could I sit down to read', 'where can I wash my hands',
        'where can I do some exercise', 'is there somewhere to charge my phone',
        'what can I use to cut this rope', 'where would I find something to write with',
        'where can I take a nap', 'where is a quiet spot for a phone call',
        'where could I dry my wet clothes', 'where can I cook dinner',
        'I want to watch a film, where should I go'),
}


@dataclass(frozen=True, slots=True)
class IntentScore:
    """The best type, its score, the runner-up and the margin between them."""

    best: str
    score: float
    second: str
    margin: float
    scores: dict[str, float]


class IntentClassifier:
    """Nearest-prototype intent scores over the sentence embedder.

    Each type's prototype is the normalised mean embedding of its examples; a question's
    score for a type is its cosine similarity to the prototype. `prepare` rewrites a text
    before embedding (the parser masks object names and times, so that the shape of the
    question, not what it is about, decides).
    """

    def __init__(self, embedder: Embedder, examples: dict[str, tuple[str, ...]] | None = None,
                 prepare: Callable[[str], str] | None = None) -> None:
        self.embedder = embedder
        self.examples = examples if examples is not None else EXAMPLES
        self.prepare = prepare or (lambda text: text.lower())
        self._names = list(self.examples)
        self._prototypes: np.ndarray | None = None

    def _ensure(self) -> np.ndarray:
        if self._prototypes is None:
            rows = []
            for name in self._names:
                vectors = self.embedder.embed([self.prepare(e) for e in self.examples[name]])
                mean = vectors.mean(axis=0)
                rows.append(mean / max(float(np.linalg.norm(mean)), 1e-9))
            self._prototypes = np.stack(rows)
        return self._prototypes

    def warm_up(self) -> None:
        """Embed the examples now."""
        self._ensure()

    def score_vector(self, vector: np.ndarray) -> IntentScore:
        """Scores of an already embedded (and prepared) question."""
        sims = self._ensure() @ vector
        order = np.argsort(-sims)
        best, second = int(order[0]), int(order[1])
        scores = {name: float(sims[i]) for i, name in enumerate(self._names)}
        return IntentScore(self._names[best], float(sims[best]), self._names[second],
                           float(sims[best] - sims[second]), scores)

    def score(self, question: str) -> IntentScore:
        """Scores of one question."""
        return self.score_vector(self.embedder.embed(self.prepare(question))[0])
