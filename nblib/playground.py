"""Lối vào ngắn cho sân chơi huấn luyện: ``from nblib.playground import Playground``.

Mã nằm ở ``nblib.presentation.playground``.
"""

from nblib.presentation.playground import Playground, side_by_side

__all__ = ["Playground", "side_by_side"]
