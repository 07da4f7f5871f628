"""Secrets given as model options or in a base URL's query string never reach ``run.json``,
through real runs: the CLI against the scripted server, and :func:`chesseval.evaluate` with every
credential-like option name."""

from __future__ import annotations

from pathlib import Path

import pytest
from llm_server import ScriptedLLMServer

from chesseval.api import evaluate
from chesseval.cli import main
from chesseval.core.players import Reply, Turn
from chesseval.core.records import load_run
from chesseval.core.runner import RunConfig
from chesseval.providers.credentials import REDACTED, redact_options

SECRETS = [f"sk-chesseval-SECRET-{i}-9f3b71c2" for i in range(8)]


def test_redact_options_covers_names_and_url_queries() -> None:
    options = {"api_key": "k1", "x_token": "t1", "client_secret": "s1", "passwd": "p1", "db_password": "p2",
               "max_tokens": 500, "depth": "2", "base_url": "https://u:pw@h.example/v1?key=A&api_key=B&token=C&model=x"}  # fmt: skip
    out = redact_options(options)
    assert [out[k] for k in ("api_key", "x_token", "client_secret", "passwd", "db_password")] == [REDACTED] * 5
    assert out["max_tokens"] == 500 and out["depth"] == "2"  # a token count is not a credential
    assert out["base_url"] == "https://***@h.example/v1?key=***&api_key=***&token=***&model=x"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHESSEVAL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("LOCAL_API_KEY", "LOCAL_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_cli_run_keeps_url_query_and_option_keys_out_of_run_json(env: Path) -> None:
    with ScriptedLLMServer(lambda messages: "Answer: e4") as server:
        url = f"{server.url}/v1?key={SECRETS[0]}&api_key={SECRETS[1]}&token={SECRETS[2]}"
        args = ["run", "--model", "openai-api/local/test", "--base-url", url, "--suite", "starter", "--limit", "3",
                "--runs-dir", "runs", "--quiet", "-M", f"api_key={SECRETS[3]}"]  # fmt: skip
        assert main(args) == 0
        assert server.requests, "the run made no call"
    [run_dir] = (env / "runs").iterdir()
    header_text = (run_dir / "run.json").read_text(encoding="utf-8")
    for secret in SECRETS[:4]:
        assert secret not in header_text
    header = load_run(run_dir).header
    assert header["model_options"]["api_key"] == REDACTED
    assert header["model_options"]["base_url"].endswith("/v1?key=***&api_key=***&token=***")


class _Scripted:
    """A player above the client boundary: the options it was built from do not matter to it."""

    @property
    def name(self) -> str:
        return "scripted"

    async def play(self, turn: Turn) -> Reply:
        return Reply(text="Answer: " + turn.board.san(next(iter(turn.board.legal_moves))))

    def describe(self) -> dict[str, str]:
        return {"kind": "scripted"}

    async def aclose(self) -> None:
        pass


def test_evaluate_keeps_every_credential_like_option_out_of_run_json(env: Path) -> None:
    options = {"my_key": SECRETS[0], "x_token": SECRETS[1], "client_secret": SECRETS[2], "passwd": SECRETS[3],
               "password": SECRETS[4], "base_url": f"http://127.0.0.1:9/v1?token={SECRETS[5]}", "depth": "1"}  # fmt: skip
    result = evaluate(RunConfig(model="scripted/x", suite="starter", limit=2, model_options=options, runs_dir=env / "runs"), player=_Scripted())
    text = (result.path / "run.json").read_text(encoding="utf-8")
    for secret in SECRETS[:6]:
        assert secret not in text
    recorded = load_run(result.path).header["model_options"]
    assert recorded["depth"] == 1 and recorded["my_key"] == recorded["passwd"] == REDACTED  # typed once: "1" -> 1
