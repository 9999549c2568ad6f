"""Class vocabulary facts perception needs: which classes are furniture, which support others."""

from __future__ import annotations

__all__ = ['FURNITURE_CLASSES', 'mobility_of']

FURNITURE_CLASSES = frozenset({
    'armchair', 'bathtub', 'bed', 'bench', 'bookshelf', 'cabinet', 'chair', 'closet',
    'coat_hook', 'coffee_table', 'console_table', 'counter', 'couch', 'desk', 'dining_table',
    'dishwasher', 'dresser', 'drawer', 'filing_cabinet', 'fridge', 'hook', 'kitchen_counter',
    'kitchen_table', 'nightstand', 'office_chair', 'oven', 'refrigerator', 'shelf',
    'shoe_rack', 'sideboard', 'sink', 'sink_counter', 'sofa', 'stove', 'table', 'toilet',
    'tv_stand', 'wardrobe', 'washing_machine', 'workbench',
})


def mobility_of(label: str, attributes: dict[str, str] | None = None) -> str:
    """'furniture' or 'movable'; a detector's own `mobility` attribute wins."""
    if attributes and attributes.get('mobility') in ('static', 'furniture', 'movable'):
        return attributes['mobility']
    return 'furniture' if label in FURNITURE_CLASSES else 'movable'
