"""What a suite build selects from the Lichess database (:class:`BuildSpec`), apart from the build
itself so that the scanning workers (:mod:`chesseval.lichessdb.scan`, :mod:`chesseval.lichessdb.pool`)
can name it without importing the builder that imports them."""

from __future__ import annotations

import dataclasses
import shlex
from typing import Any

from chesseval.errors import ConfigError

__all__ = ["BuildSpec"]


@dataclasses.dataclass(frozen=True)
class BuildSpec:
    """What to select. Every field ends up in the manifest; defaults follow domain-rules §6.5."""

    source: str
    name: str
    per_band: int = 50
    seed: str = "0"
    band_width: int = 200
    min_rating: int | None = None
    max_rating: int | None = None
    """Inclusive bounds. Without them the bands span the ratings found."""
    min_plays: int | None = 100
    max_rating_deviation: int | None = 90
    min_popularity: int | None = 0
    themes: tuple[str, ...] = ()
    """A puzzle must carry every one of these themes."""
    exclude_themes: tuple[str, ...] = ()
    """…and none of these."""
    min_moves: int | None = None
    max_moves: int | None = None
    """Bounds on the number of solver moves (``len(Moves) // 2``)."""
    openings: tuple[str, ...] = ()
    """A puzzle must carry at least one of these opening tags."""

    def check(self) -> None:
        if not self.name or any(c in self.name for c in "/\\") or self.name.startswith("."):
            raise ConfigError(f"bad suite name {self.name!r}: use letters, digits, '-', '_' and '.'")
        if self.per_band < 1:
            raise ConfigError(f"per_band must be at least 1, got {self.per_band!r}")
        if self.band_width < 1:
            raise ConfigError(f"band_width must be at least 1, got {self.band_width!r}")
        for lo, hi, what in ((self.min_rating, self.max_rating, "rating"), (self.min_moves, self.max_moves, "moves")):
            if lo is not None and hi is not None and lo > hi:
                raise ConfigError(f"min {what} {lo!r} is above max {what} {hi!r}")
        for tag in self.themes + self.exclude_themes + self.openings:
            if not tag or any(c.isspace() or c in ',"' for c in tag):
                raise ConfigError(f"bad theme or opening tag {tag!r}")

    def filters(self) -> dict[str, Any]:
        return {
            "min_plays": self.min_plays,
            "max_rating_deviation": self.max_rating_deviation,
            "min_popularity": self.min_popularity,
            "min_rating": self.min_rating,
            "max_rating": self.max_rating,
            "band_width": self.band_width,
            "per_band": self.per_band,
            "themes": list(self.themes),
            "exclude_themes": list(self.exclude_themes),
            "min_moves": self.min_moves,
            "max_moves": self.max_moves,
            "openings": list(self.openings),
        }

    def command(self, *, version: str | None = None, description: str | None = None) -> str:
        """The canonical ``chesseval suite build`` command that rebuilds this selection."""
        argv = ["chesseval", "suite", "build", self.source, "--name", self.name, "--seed", self.seed,
                "--per-band", str(self.per_band), "--band-width", str(self.band_width)]

        def opt(flag: str, value: int | None) -> None:
            argv.extend([flag, "none" if value is None else str(value)])

        opt("--min-plays", self.min_plays)
        opt("--max-rd", self.max_rating_deviation)
        opt("--min-popularity", self.min_popularity)
        for flag, value in (("--min-rating", self.min_rating), ("--max-rating", self.max_rating),
                            ("--min-moves", self.min_moves), ("--max-moves", self.max_moves)):
            if value is not None:
                argv.extend([flag, str(value)])
        for flag, values in (("--theme", self.themes), ("--exclude-theme", self.exclude_themes), ("--opening", self.openings)):
            for v in values:
                argv.extend([flag, v])
        if version is not None:
            argv.extend(["--suite-version", version])
        if description:
            argv.extend(["--description", description])
        return shlex.join(argv)
