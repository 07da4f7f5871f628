"""Stage 1, the core pipeline: puzzles and suites in, prompts out, replies parsed and judged, records
written (:mod:`~chesseval.core.runner`) and summarised (:mod:`~chesseval.core.results`).

Imports only :mod:`chesseval.errors`, :mod:`chesseval.version` and :mod:`chesseval.data`.
"""
