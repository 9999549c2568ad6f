"""Questions → typed queries (rules + text embeddings)."""

from robot_memory.language.embeddings import (
    EMBEDDING_DIM,
    CacheInfo,
    TextEmbedder,
    default_embedder,
    default_model_path,
)
from robot_memory.language.intents import EXAMPLES, IntentClassifier, IntentScore
from robot_memory.language.llm import (
    REPHRASE_PROMPT,
    LLMBackend,
    LLMBackendError,
    OpenAICompatibleBackend,
    TransformersBackend,
)
from robot_memory.language.parser import (
    DEFAULT_COLORS,
    DEFAULT_LABELS,
    DEFAULT_ROOMS,
    DEFAULT_STATES,
    ParseResult,
    QuestionParser,
    Vocabulary,
)
from robot_memory.language.phrasings import (
    BUILTIN_PHRASINGS,
    OPEN_STATE_TYPES,
    PLACEHOLDERS,
    QUESTION_TYPES,
    REQUIRED_PLACEHOLDERS,
    fill_template,
    load_phrasings,
    query_matches,
    template_fields,
)
from robot_memory.language.timeexpr import (
    TIME_OF_DAY_NAMES,
    TimeExpression,
    TimeKind,
    find_times,
    resolve_time,
    unused_time_words,
)

__all__ = [
    'BUILTIN_PHRASINGS',
    'DEFAULT_COLORS',
    'DEFAULT_LABELS',
    'DEFAULT_ROOMS',
    'DEFAULT_STATES',
    'EMBEDDING_DIM',
    'EXAMPLES',
    'OPEN_STATE_TYPES',
    'PLACEHOLDERS',
    'QUESTION_TYPES',
    'REPHRASE_PROMPT',
    'REQUIRED_PLACEHOLDERS',
    'TIME_OF_DAY_NAMES',
    'CacheInfo',
    'IntentClassifier',
    'IntentScore',
    'LLMBackend',
    'LLMBackendError',
    'OpenAICompatibleBackend',
    'ParseResult',
    'QuestionParser',
    'TextEmbedder',
    'TimeExpression',
    'TimeKind',
    'TransformersBackend',
    'Vocabulary',
    'default_embedder',
    'default_model_path',
    'fill_template',
    'find_times',
    'load_phrasings',
    'query_matches',
    'resolve_time',
    'template_fields',
    'unused_time_words',
]
