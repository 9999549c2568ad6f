"""`robot-memory eval laeqa`: long-term active embodied QA on the built-in simulator.

1. The robot patrols for `days` days, building memory from frames (perception only).
2. The next day at 17:00, before the evening patrol, questions are generated from the ground
   truth — nine types over five categories — phrased in English (built-in templates or
   `--phrasings`), parsed, and answered by each planner from a copy of the same memory.
3. Planners that look go to places and ingest what the camera sees there. The world is held
   still while questions are answered: each place's look-around is rendered once, when the
   questions are asked, and every planner that goes there sees those same frames.
4. Answers are checked structurally (room and support, exact counts, yes/no, day).

Baselines, side by side: `memory_only` (never looks), `explore_all` (tours every place first),
`fixed_budget` (looks at the two rooms the belief ranks highest), `frame_retrieval` (a
ReMEmbR-style store of per-frame records searched by text, time and position; no scene graph),
and `voi` (looks while the value of information beats its cost).
"""

from robot_memory.eval.laeqa.baselines import (
    PLANNERS,
    Agent,
    FrozenWorld,
    frame_retrieval_answer,
    run_planner,
)
from robot_memory.eval.laeqa.harness import eval_laeqa, eval_laeqa_panel
from robot_memory.eval.laeqa.patrol import FrameRecord, Patrolled, patrol
from robot_memory.eval.laeqa.questions import (
    ASKED_HOUR,
    EvalQuestion,
    generate_questions,
    is_correct,
)

__all__ = ['ASKED_HOUR', 'PLANNERS', 'Agent', 'EvalQuestion', 'FrameRecord', 'FrozenWorld',
           'Patrolled', 'eval_laeqa', 'eval_laeqa_panel', 'frame_retrieval_answer',
           'generate_questions', 'is_correct', 'patrol', 'run_planner']
