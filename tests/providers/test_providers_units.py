"""The pieces under the providers: header parsing, error translation, cache, prices, redaction."""

from __future__ import annotations

import inspect
import time
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from llm_server import ScriptedLLMServer
from provider_helpers import make_player, play_once, run, turn

from chesseval.providers.cache import ResponseCache, cache_key, default_cache_dir
from chesseval.providers.credentials import read_dotenv, redact_text, redact_url
from chesseval.errors import ConfigError, ModelError, ModelFatalError, ModelResponseError, ModelTransportError
from chesseval.providers.http import translate_httpx_error
from chesseval.core.players import Usage
from chesseval.providers.prices import Price, PriceTable, load_prices
from chesseval.providers.retry import RetryPolicy, parse_retry_after, parse_wait_value

# -- Retry-After and reset headers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("7", 7.0), ("0", 0.0), ("1.5", 1.5), ("1m30s", 90.0), ("250ms", 0.25), ("2h", 7200.0), ("6m0s", 360.0)],
)
def test_parse_wait_values(value: str, seconds: float) -> None:
    assert parse_wait_value(value) == seconds


def test_parse_http_date_and_iso_times() -> None:
    now = 1_700_000_000.0
    assert parse_wait_value(formatdate(now + 42, usegmt=True), now=now) == 42.0
    assert parse_wait_value("2023-11-14T22:13:40Z", now=now) == pytest.approx(20.0)
    assert parse_wait_value(formatdate(now - 100, usegmt=True), now=now) == 0.0  # in the past: no wait


@pytest.mark.parametrize("value", ["", "soon", "-3", "nan", "inf", "1x"])
def test_unparseable_waits_are_none(value: str) -> None:
    assert parse_wait_value(value) is None


def test_retry_after_wins_over_reset_headers_and_the_largest_reset_is_used() -> None:
    assert parse_retry_after({"retry-after": "3", "x-ratelimit-reset-requests": "60s"}) == 3.0
    assert parse_retry_after({"x-ratelimit-reset-requests": "2s", "x-ratelimit-reset-tokens": "1m"}) == 60.0
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "garbage", "x-ratelimit-reset-tokens": "5s"}) == 5.0
    assert parse_retry_after({}) is None
    soon = time.time() + 30
    anthropic = {"anthropic-ratelimit-requests-reset": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(soon))}
    assert 25 <= (parse_retry_after(anthropic) or 0) <= 31


def test_wait_scale_applies_to_every_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHESSEVAL_RETRY_WAIT_SCALE", "0.01")
    policy = RetryPolicy(wait_scale=RetryPolicy.scale_from_env())
    assert policy.wait_for(1, ModelTransportError("x", retry_after=30.0)) == pytest.approx(0.3)
    assert policy.wait_for(3, ModelTransportError("x")) <= (8 + 2) * 0.01
    monkeypatch.setenv("CHESSEVAL_RETRY_WAIT_SCALE", "fast")
    with pytest.raises(ConfigError, match="CHESSEVAL_RETRY_WAIT_SCALE='fast'"):
        RetryPolicy.scale_from_env()


def test_wait_scale_env_reaches_players(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHESSEVAL_RETRY_WAIT_SCALE", "0")
    with ScriptedLLMServer() as server:
        player = make_player("openai/gpt", server.url)
        from chesseval.providers import create_player

        fresh = create_player("openai/gpt", {"api_key": "k", "base_url": server.url + "/v1", "cache": False})
        assert fresh.retry_policy.wait_scale == 0.0  # type: ignore[attr-defined]
        run(player.aclose())
        run(fresh.aclose())  # type: ignore[attr-defined]


def test_backoff_grows_and_caps() -> None:
    policy = RetryPolicy(initial_wait=2, max_wait=10, jitter=0)
    assert [policy.backoff(n) for n in range(1, 6)] == [2, 4, 8, 10, 10]


def test_policy_rejects_bad_bounds() -> None:
    with pytest.raises(ConfigError):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ConfigError):
        RetryPolicy(timeout=0)


# -- httpx exception translation (every exception httpx defines ends up in our tree) ----------


def _httpx_exceptions() -> list[type[Exception]]:
    out = []
    for _, obj in inspect.getmembers(httpx):
        if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__.startswith("httpx"):
            out.append(obj)
    return out


def _instance(cls: type[Exception]) -> Exception:
    request = httpx.Request("POST", "http://x")
    if issubclass(cls, httpx.HTTPStatusError):
        return cls("boom", request=request, response=httpx.Response(500, request=request))  # type: ignore[call-arg]
    for args, kwargs in ((("boom",), {"request": request}), (("boom",), {}), ((), {})):
        try:
            return cls(*args, **kwargs)
        except TypeError:
            continue
    raise AssertionError(f"cannot build {cls.__name__}")


@pytest.mark.parametrize("cls", _httpx_exceptions(), ids=lambda c: c.__name__)
def test_every_httpx_exception_is_translated(cls: type[Exception]) -> None:
    exc = _instance(cls)
    mapped = translate_httpx_error(exc, provider="p", timeout=1.0)
    assert isinstance(mapped, ModelError)
    assert mapped.provider == "p"


def test_translation_classes() -> None:
    req = httpx.Request("POST", "http://x")
    assert isinstance(translate_httpx_error(httpx.ReadTimeout("t", request=req), provider="p", timeout=2), ModelTransportError)
    assert isinstance(translate_httpx_error(TimeoutError(), provider="p", timeout=2), ModelTransportError)
    assert isinstance(translate_httpx_error(httpx.ConnectError("c", request=req), provider="p", timeout=2), ModelTransportError)
    assert isinstance(translate_httpx_error(httpx.RemoteProtocolError("r", request=req), provider="p", timeout=2), ModelTransportError)
    assert isinstance(translate_httpx_error(httpx.UnsupportedProtocol("u", request=req), provider="p", timeout=2), ModelFatalError)
    assert isinstance(translate_httpx_error(httpx.DecodingError("d", request=req), provider="p", timeout=2), ModelResponseError)
    secret = "sk-live-abcdef"
    msg = str(translate_httpx_error(httpx.ConnectError(f"failed for {secret}", request=req), provider="p", timeout=2, secrets=[secret]))
    assert secret not in msg


# -- credentials ------------------------------------------------------------------------------


def test_read_dotenv_forms(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("A=1\nexport B='two words'\nC=\"x#y\"\nD=plain # comment\n\n# skip\n")
    assert read_dotenv(env) == {"A": "1", "B": "two words", "C": "x#y", "D": "plain"}
    assert read_dotenv(tmp_path / "missing") == {}


def test_redaction() -> None:
    assert redact_text("key sk-abc123 in text sk-abc123", ["sk-abc123", None, ""]) == "key *** in text ***"
    assert redact_url("https://user:pw@h.example/v1") == "https://***@h.example/v1"
    assert redact_url("https://h.example/v1?key=abc&model=m&x-goog-api-key=z") == "https://h.example/v1?key=***&model=m&x-goog-api-key=***"
    assert redact_url("http://127.0.0.1:8000/v1") == "http://127.0.0.1:8000/v1"


# -- response cache ---------------------------------------------------------------------------


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert default_cache_dir({"CHESSEVAL_CACHE_DIR": str(tmp_path)}) == tmp_path
    assert default_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "chesseval"
    assert default_cache_dir({}) == Path.home() / ".cache" / "chesseval"


def test_cache_roundtrip_and_clear(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    key = cache_key({"a": 1})
    assert cache.get("openai", key) is None
    cache.put("openai", key, {"reply": {"text": "e4"}})
    assert cache.get("openai", key)["reply"] == {"text": "e4"}  # type: ignore[index]
    cache.put("anthropic", cache_key({"a": 2}), {"reply": {"text": "d4"}})
    assert cache.size() == (2, cache.size()[1])
    assert cache.clear(provider="openai") == 1
    assert cache.get("openai", key) is None
    assert cache.clear() == 1
    assert cache.size() == (0, 0)


def test_corrupt_cache_entry_is_a_miss(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    key = cache_key({"a": 1})
    cache.put("p", key, {"reply": {"text": "e4"}})
    path = next(tmp_path.rglob(f"{key}.json"))
    path.write_text("{not json")
    assert cache.get("p", key) is None


def test_cached_reply_makes_no_call_and_key_covers_settings(tmp_path: Path) -> None:
    with ScriptedLLMServer() as server:
        server.enqueue_answer("Answer: Rxe7")

        def player(**options: object):  # type: ignore[no-untyped-def]
            return make_player("openai/gpt", server.url, **{"cache": True, "cache_dir": str(tmp_path), **options})

        first = run(play_once(player(temperature=0)))
        second = run(play_once(player(temperature=0)))
        assert len(server.requests) == 1
        assert second.cached and not first.cached
        assert second.text == first.text == "Answer: Rxe7"
        assert second.usage == first.usage and second.stop_reason == first.stop_reason
        run(play_once(player(temperature=0.7)))  # other settings: a new call
        run(play_once(player(temperature=0), turn(seed=1)))  # another epoch/seed: a new call
        run(play_once(player(temperature=0), turn("other question")))  # other messages: a new call
        run(play_once(player(temperature=0, cache=False)))  # --no-cache: a new call
        assert len(server.requests) == 5


def test_errors_are_not_cached(tmp_path: Path) -> None:
    with ScriptedLLMServer() as server:
        server.enqueue_kind("missing")
        with pytest.raises(ModelResponseError):
            run(play_once(make_player("openai/gpt", server.url, cache=True, cache_dir=str(tmp_path))))
        reply = run(play_once(make_player("openai/gpt", server.url, cache=True, cache_dir=str(tmp_path))))
        assert not reply.cached and len(server.requests) == 2


# -- prices -----------------------------------------------------------------------------------


def test_price_cost_counts_cached_input_at_its_price() -> None:
    price = Price(input=2.0, output=10.0, cached_input=0.5)
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000, cached_tokens=400_000)
    assert price.cost(usage) == pytest.approx(0.6 * 2 + 0.4 * 0.5 + 0.1 * 10)
    assert price.cost(Usage(input_tokens=None, output_tokens=5)) is None


def test_unknown_model_costs_none_never_zero(tmp_path: Path) -> None:
    table = load_prices(environ={"XDG_CONFIG_HOME": str(tmp_path)})
    assert table.cost("openai", "gpt-unknown-9", Usage(10, 10)) is None
    assert table.cost("openai-api/local", "qwen", Usage(10, 10)) is None
    assert table.cost("openai", "gpt-4o-mini-2024-07-18", Usage(1_000_000, 0)) == pytest.approx(0.15)
    assert table.lookup("openai", "gpt-4o-2024-08-06") == table.lookup("openai", "gpt-4o")


def test_user_price_files_extend_and_override(tmp_path: Path) -> None:
    config = tmp_path / "config" / "chesseval"
    config.mkdir(parents=True)
    (config / "prices.toml").write_text('[openai."gpt-4o"]\ninput = 1.0\noutput = 2.0\n')
    extra = tmp_path / "mine.toml"
    extra.write_text('["openai-api/local"."qwen*"]\ninput = 0\noutput = 0\n')
    table = load_prices([extra], environ={"XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert table.lookup("openai", "gpt-4o") == Price(1.0, 2.0)
    assert table.cost("openai-api/local", "qwen3-8b", Usage(100, 100)) == 0.0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[openai."m"]\ninput = "cheap"\noutput = 1\n', r"\[openai.'m'\] input = 'cheap' is not a price"),
        ('[openai."m"]\ninput = 1\n', r"\[openai.'m'\] lacks 'output'"),
        ('[openai."m"]\ninput = 1\noutput = 1\ncahced = 1\n', r"unknown field\(s\) \['cahced'\]"),
        ("[openai\n", "is not valid TOML"),
    ],
)
def test_bad_price_files(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        PriceTable().add_file(path)


def test_cost_reaches_the_reply(tmp_path: Path) -> None:
    prices = tmp_path / "p.toml"
    prices.write_text('["openai-api/local"."m"]\ninput = 1000000\noutput = 2000000\n')  # $1 / $2 per token
    with ScriptedLLMServer() as server:
        reply = run(play_once(make_player("openai-api/local/m", server.url, prices=str(prices))))
        assert reply.cost_usd == pytest.approx(reply.usage.input_tokens * 1.0 + reply.usage.output_tokens * 2.0)  # type: ignore[operator]
        unpriced = run(play_once(make_player("openai-api/local/other", server.url)))
        assert unpriced.cost_usd is None


def test_server_reported_cost_used_when_no_price(tmp_path: Path) -> None:
    with ScriptedLLMServer() as server:
        body = b'{"choices":[{"message":{"content":"e4"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"cost":0.00042}}'
        server.enqueue_raw(body)
        reply = run(play_once(make_player("openai-api/router/m", server.url)))
        assert reply.text == "e4" and reply.cost_usd == pytest.approx(0.00042)
