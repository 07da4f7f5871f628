"""Stage 2, Stockfish: finding and configuring it (:mod:`~chesseval.engine.stockfish`), a pool of
engine processes (:mod:`~chesseval.engine.pool`), checking a run's played moves
(:mod:`~chesseval.engine.check`) and summarising the check (:mod:`~chesseval.engine.report`)."""
