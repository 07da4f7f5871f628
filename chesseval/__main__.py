from chesseval.cli import main

raise SystemExit(main())
