"""Stage 4, making puzzles: mining them from self-play games with Stockfish
(:mod:`~chesseval.mining.selfplay`, :mod:`~chesseval.mining.miner`), tagging themes and difficulty,
and building the default and starter suites (:mod:`~chesseval.mining.mined_suite`,
:mod:`~chesseval.mining.starter`)."""
