"""chesseval.lichessdb.download against a real HTTP server on 127.0.0.1 (ThreadingHTTPServer in a thread)."""

from __future__ import annotations

import hashlib
import json
import random
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import zstandard

from chesseval import cli
from chesseval.lichessdb.download import download
from chesseval.errors import DownloadError


def _make_db(rows: int = 4000, seed: int = 1) -> bytes:
    """A small Lichess-format .csv.zst (random-looking content so it does not compress to nothing)."""
    rng = random.Random(seed)
    lines = ["PuzzleId,FEN,Moves,Rating,RatingDeviation,Popularity,NbPlays,Themes,GameUrl,OpeningTags"]
    for i in range(rows):
        game = "".join(rng.choice("abcdefghijkLMNOPQ0123456789") for _ in range(8))
        lines.append(
            f"{i:05d},r6k/pp2r2p/4Rp1Q/3p4/8/1N1P2R1/PqP2bPP/7K b - - 0 24,f2g3 e6e7 b2b1 b3c1,"
            f"{rng.randint(400, 3000)},{rng.randint(70, 500)},{rng.randint(-100, 100)},{rng.randint(1, 99999)},"
            f"crushing hangingPiece long middlegame,https://lichess.org/{game}#48,"
        )
    return zstandard.ZstdCompressor(level=3).compress(("\n".join(lines) + "\n").encode())


@dataclass
class Server:
    url: str
    payload: bytes
    etag: str = '"v1"'
    honor_range: bool = True
    drops: list[int] = field(default_factory=list)
    """Per request, in order: close the connection after this many body bytes."""
    statuses: list[int] = field(default_factory=list)
    """Per request, in order: answer with this status and no body."""
    requests: list[dict[str, str]] = field(default_factory=list)

    def set_payload(self, payload: bytes, etag: str) -> None:
        self.payload, self.etag = payload, etag


def _handler(state: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            state.requests.append({k.lower(): v for k, v in self.headers.items()})
            if self.path != "/db/lichess_db_puzzle.csv.zst":
                self._bare(404)
                return
            if state.statuses:
                self._bare(state.statuses.pop(0))
                return
            data, start = state.payload, 0
            rng = self.headers.get("Range")
            if_range = self.headers.get("If-Range")
            if rng and state.honor_range and (if_range is None or if_range == state.etag):
                start = int(rng.removeprefix("bytes=").rstrip("-"))
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", state.etag)
            self.send_header("Accept-Ranges", "bytes" if state.honor_range else "none")
            self.end_headers()
            if state.drops:
                cut = state.drops.pop(0)
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)  # the connection drops mid-file
                self.close_connection = True
                return
            self.wfile.write(body)

        def _bare(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(url="", payload=_make_db())
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/db/lichess_db_puzzle.csv.zst"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def _no_wait(attempt: int) -> float:
    return 0.0


def test_downloads_whole_file(server: Server, tmp_path: Path) -> None:
    assert len(server.payload) > 50_000
    dest = tmp_path / "db.csv.zst"
    result = download(server.url, dest, wait=_no_wait)
    assert dest.read_bytes() == server.payload
    assert result.sha256 == hashlib.sha256(server.payload).hexdigest()
    assert (result.size, result.attempts, result.resumed_from) == (len(server.payload), 1, 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.csv.zst"]


def test_dropped_connection_is_resumed_with_range(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "db.csv.zst"
    cut = len(server.payload) // 3
    server.drops = [cut]
    result = download(server.url, dest, retries=2, wait=_no_wait)
    assert dest.read_bytes() == server.payload
    assert result.attempts == 2
    assert "range" not in server.requests[0]
    assert server.requests[1]["range"] == f"bytes={cut}-"
    assert server.requests[1]["if-range"] == '"v1"'


def test_interrupted_download_leaves_only_part_and_next_call_resumes(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "db.csv.zst"
    cut = len(server.payload) // 2
    server.drops = [cut]
    with pytest.raises(DownloadError, match=r"gave up after 1 attempt.*run again to resume"):
        download(server.url, dest, retries=0, wait=_no_wait)
    assert not dest.exists()  # never a half-written file in place
    part = tmp_path / "db.csv.zst.part"
    assert part.read_bytes() == server.payload[:cut]

    result = download(server.url, dest, retries=0, wait=_no_wait)
    assert result.resumed_from == cut
    assert dest.read_bytes() == server.payload
    assert not part.exists()
    assert server.requests[-1]["range"] == f"bytes={cut}-"


def test_several_drops_in_a_row(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "db.csv.zst"
    server.drops = [1000, 5000, 20_000]
    result = download(server.url, dest, retries=3, wait=_no_wait)
    assert dest.read_bytes() == server.payload
    assert result.attempts == 4
    assert [r.get("range") for r in server.requests] == [None, "bytes=1000-", "bytes=6000-", "bytes=26000-"]


def test_server_that_ignores_range_restarts_from_zero(server: Server, tmp_path: Path) -> None:
    server.honor_range = False
    server.drops = [len(server.payload) // 2]
    dest = tmp_path / "db.csv.zst"
    result = download(server.url, dest, retries=1, wait=_no_wait)
    assert dest.read_bytes() == server.payload  # not the first half twice
    assert result.attempts == 2


def test_file_changed_on_server_between_attempts(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "db.csv.zst"
    server.drops = [len(server.payload) // 2]
    with pytest.raises(DownloadError):
        download(server.url, dest, retries=0, wait=_no_wait)
    new = _make_db(seed=2)
    server.set_payload(new, '"v2"')  # If-Range no longer matches: the server sends all of v2
    download(server.url, dest, retries=0, wait=_no_wait)
    assert dest.read_bytes() == new


def test_part_already_complete_gets_416_and_is_accepted(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "db.csv.zst"
    (tmp_path / "db.csv.zst.part").write_bytes(server.payload)
    (tmp_path / "db.csv.zst.part.json").write_text(json.dumps({"url": server.url, "total": len(server.payload)}))
    result = download(server.url, dest, retries=0, wait=_no_wait)
    assert dest.read_bytes() == server.payload and result.resumed_from == len(server.payload)
    assert server.requests[0]["range"] == f"bytes={len(server.payload)}-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.csv.zst"]


def test_connection_closed_after_whole_body_is_fine(server: Server, tmp_path: Path) -> None:
    server.drops = [len(server.payload)]
    result = download(server.url, tmp_path / "db.csv.zst", retries=0, wait=_no_wait)
    assert result.attempts == 1 and (tmp_path / "db.csv.zst").read_bytes() == server.payload


def test_sha256_mismatch_discards_the_file(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "db.csv.zst"
    with pytest.raises(DownloadError, match="expected 0000"):
        download(server.url, dest, sha256="0" * 64, wait=_no_wait)
    assert list(tmp_path.iterdir()) == []
    good = hashlib.sha256(server.payload).hexdigest()
    assert download(server.url, dest, sha256=good.upper(), wait=_no_wait).sha256 == good


def test_http_404_is_not_retried(server: Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(server.url.replace("/db/", "/nope/"), tmp_path / "x.zst", retries=3, wait=_no_wait)
    assert len(server.requests) == 1


def test_503_is_retried(server: Server, tmp_path: Path) -> None:
    server.statuses = [503, 503]
    dest = tmp_path / "db.csv.zst"
    assert download(server.url, dest, retries=2, wait=_no_wait).attempts == 3
    assert dest.read_bytes() == server.payload
    server.statuses = [503] * 5
    with pytest.raises(DownloadError, match="HTTP 503.*gave up after 2"):
        download(server.url, tmp_path / "other.zst", retries=1, wait=_no_wait)


def test_connection_refused_is_translated(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="connection failed") as info:
        download(f"http://127.0.0.1:{port}/f.zst", tmp_path / "f.zst", retries=1, wait=_no_wait, timeout=2.0)
    assert info.value.__cause__ is not None and type(info.value.__cause__).__module__.startswith("httpx")


def test_existing_file_is_not_downloaded_again(server: Server, tmp_path: Path) -> None:
    dest = tmp_path / "db.csv.zst"
    dest.write_bytes(b"old")
    result = download(server.url, dest, wait=_no_wait)
    assert result.cached and server.requests == [] and dest.read_bytes() == b"old"
    result = download(server.url, dest, force=True, wait=_no_wait)
    assert not result.cached and dest.read_bytes() == server.payload


def test_progress_callback_reaches_total(server: Server, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    download(server.url, tmp_path / "db.csv.zst", on_progress=lambda d, t: seen.append((d, t)), wait=_no_wait)
    assert seen[0] == (0, len(server.payload)) and seen[-1] == (len(server.payload), len(server.payload))


def test_cli_puzzles_download(server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "cache" / "db.csv.zst"
    server.drops = [len(server.payload) // 4]
    code = cli.main(["puzzles", "download", "--url", server.url, "--out", str(dest), "--no-progress"])
    assert code == 0
    assert dest.read_bytes() == server.payload
    out = capsys.readouterr().out
    assert hashlib.sha256(server.payload).hexdigest() in out


def test_cli_download_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = cli.main(["puzzles", "download", "--url", f"http://127.0.0.1:{port}/f.zst", "--out", str(tmp_path / "f"), "--retries", "0", "--no-progress"])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("chesseval: error:") and "\n" not in err


def test_destination_directory_and_unwritable_destination(server: Server, tmp_path: Path) -> None:
    result = download(server.url, tmp_path, wait=_no_wait)
    assert result.path == tmp_path / "lichess_db_puzzle.csv.zst" and result.path.read_bytes() == server.payload
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(DownloadError, match="a-file"):
        download(server.url, blocker / "sub" / "db.csv.zst", wait=_no_wait)
