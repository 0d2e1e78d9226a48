"""Property tests: whatever bytes come in, the reader only lets through telegrams whose CRC checks, says why it
rejects the rest, raises nothing, and finds every real telegram in a noisy stream."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meter_tui.p1 import TelegramError, parse_telegram
from meter_tui.p1.crc import crc16_arc
from meter_tui.p1.reader import ReadResult, TelegramReader
from tests.conftest import TELEGRAMS


def _crc_checked(data: bytes) -> bool:
    try:
        return parse_telegram(data).crc is not None
    except TelegramError:
        return False


# Real telegrams whose CRC is valid, as they were sent (each ends with its CRC digits or CRC + CRLF).
GOOD = [p.read_bytes() for p in sorted(TELEGRAMS.glob("*.txt")) if _crc_checked(p.read_bytes())]
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _frame(data: bytes) -> bytes:
    """The telegram itself: from '/' through the CRC digits."""
    end = data.index(b"\n!") + 2
    while end < len(data) and data[end : end + 1] not in (b"\r", b"\n"):
        end += 1
    return data[:end]


def _read(stream: bytes, sizes: list[int]) -> list[ReadResult]:
    reader = TelegramReader()
    results: list[ReadResult] = []
    position = 0
    index = 0
    while position < len(stream):
        size = sizes[index % len(sizes)] if sizes else len(stream)
        results += reader.feed(stream[position : position + size])
        position += size
        index += 1
    results += reader.flush()
    assert reader.good == sum(1 for r in results if r.telegram is not None)
    assert reader.rejected == sum(1 for r in results if r.error is not None)
    return results


def _assert_sound(results: list[ReadResult]) -> None:
    """Every result is either a telegram whose CRC matches its bytes, or an error with a reason."""
    for result in results:
        assert (result.telegram is None) != (result.error is None)
        if result.telegram is not None:
            if result.telegram.crc is not None:
                end = result.raw.index(b"\n!") + 2
                assert crc16_arc(result.raw[:end]) == result.telegram.crc
        else:
            assert result.error is not None
            assert result.error.message


chunk_sizes = st.lists(st.integers(min_value=1, max_value=2048), min_size=1, max_size=20)


def test_the_corpus_has_enough_good_telegrams():
    assert len(GOOD) >= 15


@PROPERTY
@given(st.binary(max_size=4096), chunk_sizes)
def test_random_bytes_never_raise(data: bytes, sizes: list[int]):
    _assert_sound(_read(data, sizes))


@PROPERTY
@given(
    st.lists(
        st.sampled_from([b"/", b"!", b"\r\n", b"\n", b"(", b")", b"1-0:1.8.1", b"FLU5", b"A1B2"])
        | st.binary(max_size=16),
        max_size=200,
    ).map(b"".join),
    chunk_sizes,
)
def test_telegram_like_noise_never_raises(data: bytes, sizes: list[int]):
    _assert_sound(_read(data, sizes))


@PROPERTY
@given(st.sampled_from(GOOD), st.data(), chunk_sizes)
def test_a_bit_flip_is_never_accepted(original: bytes, data: st.DataObject, sizes: list[int]):
    frame = _frame(original)
    position = data.draw(st.integers(min_value=0, max_value=len(frame) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=7))
    damaged = bytearray(frame)
    damaged[position] ^= 1 << bit
    crc_digits = frame.index(b"\n!") + 2
    if position >= crc_digits and bytes(damaged).upper() == frame.upper():
        return  # 'a' <-> 'A' in the CRC digits: the same number, nothing was damaged
    results = _read(bytes(damaged) + b"\r\n", sizes)
    _assert_sound(results)
    assert not any(r.telegram is not None for r in results), f"flip of bit {bit} at {position} was accepted"
    if position > 0:  # with its '/' gone the bytes are garbage; otherwise the frame is rejected with a reason
        assert any(r.error is not None for r in results)


@PROPERTY
@given(st.sampled_from(GOOD), st.sampled_from(GOOD), st.data(), chunk_sizes)
def test_a_truncated_telegram_is_rejected_and_the_next_one_read(first: bytes, second: bytes, data, sizes):
    frame = _frame(first)
    cut = data.draw(st.integers(min_value=1, max_value=len(frame) - 1))
    results = _read(frame[:cut] + b"\r\n" + _frame(second) + b"\r\n", sizes)
    _assert_sound(results)
    telegrams = [r.telegram for r in results if r.telegram is not None]
    assert len(telegrams) >= 1
    assert telegrams[-1].raw == _frame(second)
    assert not any(t.raw == frame[:cut] for t in telegrams)


@PROPERTY
@given(st.lists(st.tuples(st.binary(max_size=300), st.sampled_from(GOOD)), min_size=1, max_size=8), chunk_sizes)
def test_every_real_telegram_in_a_noisy_stream_is_recovered(pieces: list[tuple[bytes, bytes]], sizes: list[int]):
    stream = b"".join(noise + b"\r\n" + _frame(telegram) + b"\r\n" for noise, telegram in pieces)
    results = _read(stream, sizes)
    _assert_sound(results)
    found = [r.telegram.raw for r in results if r.telegram is not None]
    expected = [_frame(telegram) for _, telegram in pieces]
    # Noise may by chance hold a telegram-shaped run, but every real telegram must be there, in order.
    iterator = iter(found)
    assert all(any(raw == want for raw in iterator) for want in expected), (found, expected)
