"""The fault server does what it is told: what the limits tests rely on when they blame the runtime."""

from __future__ import annotations

import concurrent.futures
import email.utils
import time

import httpx2
import pytest

from tests.faultserver.process import FaultServerProcess


@pytest.fixture
def http(faultserver: FaultServerProcess):
    with httpx2.Client(base_url=faultserver.url, timeout=10) as client:
        yield client


def test_ok_echoes_and_counts_per_key(http: httpx2.Client, faultserver: FaultServerProcess) -> None:
    first = http.post("/ok", params={"key": "echo", "id": "a"}, json={"x": 1}).json()
    second = http.get("/ok", params={"key": "echo", "id": "b"}).json()
    assert first == {"id": "a", "method": "POST", "n": 1, "body": {"x": 1}}
    assert second["n"] == 2
    stats = faultserver.stats("echo")
    assert stats["requests"] == 2 and stats["ids"] == ["a", "b"] and stats["methods"] == ["POST", "GET"]


def test_limited_tells_when_to_retry_then_answers(http: httpx2.Client) -> None:
    seconds = http.get("/limited", params={"key": "l1", "after": "2"})
    assert seconds.status_code == 429 and seconds.headers["retry-after"] == "2"
    assert http.get("/limited", params={"key": "l1"}).status_code == 200
    # The server's clock read between `before` and `after`: the times it names lie 3 (5) s beyond it, in whole
    # seconds.
    before = time.time()
    date = http.get("/limited", params={"key": "l2", "header": "date", "after": "3"})
    reset = http.get("/limited", params={"key": "l3", "header": "reset", "after": "5"})
    after = time.time()
    told = email.utils.parsedate_to_datetime(date.headers["retry-after"]).timestamp()
    assert int(before + 3) <= told <= after + 3
    assert int(before + 5) <= int(reset.headers["x-ratelimit-reset"]) <= after + 5


def test_flap_alternates_per_key(http: httpx2.Client) -> None:
    codes = [http.get("/flap", params={"key": "f"}).status_code for _ in range(4)]
    assert codes == [503, 200, 503, 200]


def test_hang_answers_late(http: httpx2.Client) -> None:
    with pytest.raises(httpx2.ReadTimeout):
        http.get("/hang", params={"seconds": "2"}, timeout=0.3)


def test_big_streams_the_whole_size(http: httpx2.Client) -> None:
    with http.stream("GET", "/big", params={"mb": "3"}) as response:
        assert "content-length" not in response.headers
        assert sum(len(chunk) for chunk in response.iter_bytes()) == 3 * 1024 * 1024
    with http.stream("GET", "/big", params={"mb": "1", "length": "1"}) as response:
        assert response.headers["content-length"] == str(1024 * 1024)


def test_broken_responses(http: httpx2.Client) -> None:
    bad = http.get("/badjson")
    assert bad.headers["content-type"] == "application/json"
    with pytest.raises(ValueError):
        bad.json()
    with pytest.raises(httpx2.RemoteProtocolError):
        http.get("/cut")
    assert http.get("/wrongtype").headers["content-type"] == "text/html"


def test_max_in_flight_is_counted(faultserver: FaultServerProcess) -> None:
    def call(i: int) -> int:
        return httpx2.get(f"{faultserver.url}/ok", params={"key": "conc", "delay": "0.3", "id": str(i)}).status_code

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert list(pool.map(call, range(4))) == [200] * 4
    assert faultserver.stats("conc")["max_in_flight"] == 4
