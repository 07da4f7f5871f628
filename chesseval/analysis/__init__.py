"""Stage 4, from finished runs to conclusions: text reports, breakdowns and paired comparisons,
the leaderboard, plots, the HTML report and the reference ladder."""
