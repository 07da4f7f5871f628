"""Provider factories: keys, base URLs, options and what each provider puts on the wire."""

from __future__ import annotations

from pathlib import Path

import pytest
from llm_server import ScriptedLLMServer
from provider_helpers import FAKE_KEY, make_player, play_once, run

from chesseval.errors import ConfigError, UnknownModelError
from chesseval.providers import PROVIDERS, create_player
from chesseval.providers.base import HttpPlayer

KEY_VARS = [
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "GEMINI_API_KEY", "GOOGLE_API_KEY",
    "GOOGLE_BASE_URL", "GEMINI_BASE_URL", "OPENROUTER_API_KEY", "OPENROUTER_BASE_URL", "LOCAL_API_KEY", "LOCAL_BASE_URL",
    "MY_SERVER_API_KEY", "MY_SERVER_BASE_URL", "OLLAMA_BASE_URL", "OLLAMA_API_KEY", "VLLM_BASE_URL", "VLLM_API_KEY",
    "LLAMACPP_BASE_URL", "LLAMACPP_API_KEY",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in KEY_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("CHESSEVAL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.mark.parametrize(
    ("model", "variable"),
    [
        ("openai/gpt-4o", "OPENAI_API_KEY"),
        ("anthropic/claude-sonnet-4-5", "ANTHROPIC_API_KEY"),
        ("google/gemini-2.5-pro", "GEMINI_API_KEY or GOOGLE_API_KEY"),
        ("openrouter/openai/gpt-4o", "OPENROUTER_API_KEY"),
        ("openai-api/my-server/model", "MY_SERVER_API_KEY"),
    ],
)
def test_missing_key_is_a_one_line_config_error_naming_the_variable(model: str, variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVER_BASE_URL", "https://llm.example.com/v1")
    with pytest.raises(ConfigError) as info:
        create_player(model, {})
    message = str(info.value)
    assert variable in message and "\n" not in message


def test_key_read_from_dotenv_in_cwd(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f'# keys\nexport OPENAI_API_KEY="{FAKE_KEY}"\nOTHER=1 # note\n')
    player = create_player("openai/gpt-4o", {})
    assert isinstance(player, HttpPlayer)
    assert player.describe()["key_from"] == "OPENAI_API_KEY"
    assert FAKE_KEY not in repr(player.describe())


def test_environment_wins_over_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("GOOGLE_API_KEY=from-file\n")
    monkeypatch.setenv("GEMINI_API_KEY", "from-env")
    player = create_player("google/gemini-2.5-flash", {})
    assert player.describe()["key_from"] == "GEMINI_API_KEY"
    assert player.session.headers["x-goog-api-key"] == "from-env"


def test_malformed_dotenv_line_is_reported_without_its_content(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OPENAI_API_KEY=ok\nthis is sk-secret-looking garbage\n")
    with pytest.raises(ConfigError, match=r"\.env'?:2: not a KEY=value line") as info:
        create_player("anthropic/claude", {})
    assert "sk-secret" not in str(info.value)


def test_openai_api_reads_name_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVER_BASE_URL", "https://llm.example.com/v1")
    monkeypatch.setenv("MY_SERVER_API_KEY", FAKE_KEY)
    player = create_player("openai-api/my-server/qwen3-8b", {})
    assert player.name == "openai-api/my-server/qwen3-8b"
    assert player.describe()["base_url"] == "https://llm.example.com/v1"
    assert player.describe()["key_from"] == "MY_SERVER_API_KEY"


def test_openai_api_needs_a_base_url() -> None:
    with pytest.raises(ConfigError, match="LOCAL_BASE_URL or pass --base-url"):
        create_player("openai-api/local/m", {})


def test_openai_api_must_name_server_and_model() -> None:
    with pytest.raises(ConfigError, match="openai-api/<name>/<model>"):
        create_player("openai-api/justamodel", {})


def test_local_server_needs_no_key_but_remote_does() -> None:
    assert create_player("openai-api/local/m", {"base_url": "http://127.0.0.1:1234/v1"}).describe()["key_from"].endswith("(not set)")
    with pytest.raises(ConfigError, match="LOCAL_API_KEY"):
        create_player("openai-api/local/m", {"base_url": "https://llm.example.com/v1"})


@pytest.mark.parametrize(
    ("model", "url"),
    [
        ("ollama/llama3.1", "http://localhost:11434/v1"),
        ("vllm/Qwen/Qwen3-8B", "http://localhost:8000/v1"),
        ("llamacpp/any", "http://localhost:8080/v1"),
    ],
)
def test_local_presets_default_urls(model: str, url: str) -> None:
    player = create_player(model, {})
    assert player.describe()["base_url"] == url
    assert player.name == model


def test_preset_base_url_and_optional_key_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://gpu-box:11434/v1")
    player = create_player("ollama/llama3.1", {})  # Ollama has no keys by default, even remote
    assert player.describe()["base_url"] == "http://gpu-box:11434/v1"
    assert "authorization" not in player.session.headers
    monkeypatch.setenv("OLLAMA_API_KEY", FAKE_KEY)
    player = create_player("ollama/llama3.1", {})
    assert player.session.headers["authorization"] == f"Bearer {FAKE_KEY}"


def test_openrouter_keeps_org_in_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", FAKE_KEY)
    player = create_player("openrouter/anthropic/claude-sonnet-4", {})
    assert player.name == "openrouter/anthropic/claude-sonnet-4"
    assert player.build_request([{"role": "user", "content": "x"}]).body["model"] == "anthropic/claude-sonnet-4"


def test_base_url_credentials_are_redacted_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    player = create_player("openai-api/proxy/m", {"base_url": "https://alice:s3cr3t-pass@proxy.example.com/v1?api_key=k3y-value&x=1", "api_key": FAKE_KEY})
    described = repr(player.describe())
    for secret in ("s3cr3t-pass", "k3y-value", FAKE_KEY, "alice"):
        assert secret not in described
    assert player.describe()["base_url"] == "https://***@proxy.example.com/v1?api_key=***&x=1"


def test_bad_base_url_scheme() -> None:
    with pytest.raises(ConfigError, match="must start with http"):
        create_player("openai-api/x/m", {"base_url": "ftp://example.com", "api_key": "k"})


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"temperature": "hot"}, r"temperature='hot' is not a number"),
        ({"max_tokens": "0"}, r"max_tokens='0' must be at least 1"),
        ({"max_connections": "many"}, r"max_connections='many' is not a whole number"),
        ({"reasoning_effort": "extreme"}, r"reasoning_effort='extreme' is not one of none\|minimal"),
        ({"cache": "maybe"}, r"cache='maybe' is not true/false"),
        ({"timeout": "-1"}, r"timeout='-1' must be greater than 0"),
        ({"temprature": "0"}, r"unknown model option\(s\) \['temprature'\]"),
        ({"api": "completions"}, r"api='completions' is not 'chat', 'responses' or 'auto'"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        create_player("openai/gpt-4o", {"api_key": "k", **options})


def test_none_options_mean_unset() -> None:
    player = create_player("openai/gpt-4o", {"api_key": "k", "temperature": None, "max_tokens": None, "seed": None})
    assert player.build_request([{"role": "user", "content": "x"}]).body == {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}


def test_describe_has_settings_but_no_secret() -> None:
    player = create_player("openai/gpt-4o", {"api_key": FAKE_KEY, "temperature": "0.5", "max_tokens": "300", "seed": "7", "reasoning_effort": "max"})
    d = player.describe()
    assert d["generation"] == {"temperature": 0.5, "max_tokens": 300, "seed": 7, "reasoning_effort": "max", "reasoning_effort_sent": "xhigh"}
    assert d["key_from"] == "the api_key option"
    assert FAKE_KEY not in repr(d)


def test_registry_lists_all_providers() -> None:
    assert {"openai", "openai-api", "ollama", "vllm", "llamacpp", "openrouter", "anthropic", "google"} <= set(PROVIDERS)
    with pytest.raises(UnknownModelError, match="known providers"):
        create_player("nonesuch/model", {})


# -- what goes on the wire --------------------------------------------------------------------


def body_of(model: str, **options: object) -> dict:  # type: ignore[type-arg]
    with ScriptedLLMServer() as server:
        run(play_once(make_player(model, server.url, **options)))
        return server.requests[0].json  # type: ignore[no-any-return]


def headers_of(model: str, **options: object) -> tuple[str, dict[str, str]]:
    with ScriptedLLMServer() as server:
        run(play_once(make_player(model, server.url, **options)))
        return server.requests[0].path, server.requests[0].headers


def test_openai_chat_body() -> None:
    body = body_of("openai/gpt-5", temperature=0.0, max_tokens=500, seed=3, reasoning_effort="low")
    assert body["model"] == "gpt-5"
    assert body["max_completion_tokens"] == 500 and "max_tokens" not in body
    assert body["temperature"] == 0.0 and body["seed"] == 3 and body["reasoning_effort"] == "low"


def test_compatible_servers_get_max_tokens() -> None:
    body = body_of("openai-api/local/qwen", max_tokens=500, reasoning_effort="max")
    assert body["max_tokens"] == 500 and "max_completion_tokens" not in body
    assert body["reasoning_effort"] == "xhigh"


def test_openai_responses_body() -> None:
    body = body_of("openai/o3", api="responses", max_tokens=800, reasoning_effort="high")
    assert body["input"][-1] == {"role": "user", "content": "Find the best move."}
    assert body["max_output_tokens"] == 800
    assert body["reasoning"] == {"effort": "high"}
    assert body["store"] is False


def test_anthropic_body_and_headers() -> None:
    path, headers = headers_of("anthropic/claude-sonnet-4-5")
    assert path == "/v1/messages"
    assert headers["x-api-key"] == FAKE_KEY and headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in headers
    body = body_of("anthropic/claude-sonnet-4-5", temperature=0.2)
    assert body["system"] == "You solve chess puzzles."
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert body["max_tokens"] == 4096 and body["temperature"] == 0.2
    assert "thinking" not in body


def test_anthropic_extended_thinking_budget() -> None:
    body = body_of("anthropic/claude-sonnet-4-5", reasoning_effort="medium")
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 8192}
    assert body["max_tokens"] == 8192 + 4096
    body = body_of("anthropic/claude-sonnet-4-5", reasoning_effort="low", max_tokens=3000)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048} and body["max_tokens"] == 3000
    body = body_of("anthropic/claude-opus-4-7", reasoning_effort="max", thinking="adaptive")
    assert body["thinking"] == {"type": "adaptive"} and body["output_config"] == {"effort": "max"}
    assert "thinking" not in body_of("anthropic/claude-sonnet-4-5", reasoning_effort="none")


def test_anthropic_thinking_checks_happen_before_any_call() -> None:
    with pytest.raises(ConfigError, match="must be larger than the thinking budget 16384"):
        create_player("anthropic/claude", {"api_key": "k", "reasoning_effort": "high", "max_tokens": "1000"})
    with pytest.raises(ConfigError, match="does not allow setting temperature"):
        create_player("anthropic/claude", {"api_key": "k", "reasoning_effort": "low", "temperature": "0"})


def test_anthropic_base_url_with_v1_suffix() -> None:
    with ScriptedLLMServer() as server:
        run(play_once(make_player("anthropic/claude", server.url, base_url=server.url + "/v1")))
        assert server.requests[0].path == "/v1/messages"


def test_google_body_and_key_header_not_url() -> None:
    path, headers = headers_of("google/gemini-2.5-flash")
    assert path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert FAKE_KEY not in path and headers["x-goog-api-key"] == FAKE_KEY
    body = body_of("google/gemini-2.5-flash", temperature=0.0, max_tokens=256, seed=5, reasoning_effort="none")
    assert body["systemInstruction"] == {"parts": [{"text": "You solve chess puzzles."}]}
    assert body["contents"] == [{"role": "user", "parts": [{"text": "Find the best move."}]}]
    assert body["generationConfig"] == {"temperature": 0.0, "maxOutputTokens": 256, "seed": 5, "thinkingConfig": {"thinkingBudget": 0}}


def test_google_thinking_level_for_later_models() -> None:
    body = body_of("google/gemini-3-pro-preview", reasoning_effort="medium")
    assert body["generationConfig"]["thinkingConfig"] == {"thinkingLevel": "medium"}
    body = body_of("google/gemini-3-pro-preview", thinking_budget=1234)
    assert body["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 1234}


def test_bearer_key_for_openai_compatible() -> None:
    _, headers = headers_of("openai/gpt-4o")
    assert headers["authorization"] == f"Bearer {FAKE_KEY}"


@pytest.mark.parametrize(
    ("model", "api"),
    [("openai/gpt-4o", "chat.completions"), ("openai/o3-pro", "responses"), ("openai/gpt-5-pro-2025-10-06", "responses"), ("openai/gpt-5.1-codex", "responses"), ("openai-api/x/o3-pro", "chat.completions")],
)
def test_responses_api_chosen_for_models_only_it_serves(model: str, api: str) -> None:
    options = {"api_key": "k", "base_url": "http://127.0.0.1:9/v1"}
    assert create_player(model, options).describe()["api"] == api
    assert create_player(model, {**options, "api": "chat"}).describe()["api"] == "chat.completions"
