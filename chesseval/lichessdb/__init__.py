"""Stage 2, the Lichess puzzle database: download it (:mod:`~chesseval.lichessdb.download`) and build a
stratified suite from it (:mod:`~chesseval.lichessdb.build`, scanning in worker processes with
:mod:`~chesseval.lichessdb.scan` and :mod:`~chesseval.lichessdb.pool`)."""
