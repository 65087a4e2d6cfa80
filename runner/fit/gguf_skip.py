"""Skip a remote vocabulary without downloading it.

A GGUF header has no index: the tensor infos come after the metadata, and the tokenizer's string arrays
(262,144 strings, 4.4 MB for Gemma 3) can only be walked string by string. Over HTTP that is most of what a
header read transfers. Instead we estimate where the array ends from the string density at a few sampled
points, fetch a window around the estimate, and try each position there that looks like the start of the next
metadata key (or of the first tensor info). A candidate is accepted only if the whole rest of the header parses
from it AND the tensor data it describes ends exactly at the end of the file - a check a wrong position cannot
pass by accident. If no candidate passes, the caller reads the array normally, so the result is always exact.
"""

from __future__ import annotations

import re
import struct
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.fit.gguf_header import TensorInfo, _Parser

SAMPLES, SAMPLE_BYTES, PARALLEL = 24, 2048, 8
MIN_WINDOW, WINDOW_FRACTION, WIDENINGS = 32 << 10, 0.02, 3  # windows of ±2%, ±6%, ±18%
MAX_CANDIDATES = 64
CHAIN = 6  # consecutive plausible strings needed to trust a resynchronised position
KEY_PREFIXES = (b"general.", b"tokenizer.", b"split.", b"quantize.", b"adapter.", b"clip.")
TENSOR_PREFIXES = (
    b"token_embd",
    b"blk.",
    b"output",
    b"rope_",
    b"position_embd",
    b"per_layer",
    b"altup",
    b"v.",
    b"mm.",
)


def _density(window: bytes, endian: str) -> float | None:
    """Strings per byte in a window that starts at an arbitrary byte inside a string array."""
    unpack = struct.Struct(endian + "Q").unpack_from
    for start in range(min(len(window) - 64, 1024)):
        pos, chain = start, 0
        while pos + 8 <= len(window):
            n = unpack(window, pos)[0]
            if n > 4096 or pos + 8 + n > len(window):
                break
            pos, chain = pos + 8 + n, chain + 1
        if chain >= CHAIN and pos - start > len(window) // 2:
            return chain / (pos - start)
    return None


def _estimate_end(p: _Parser, start: int, count: int) -> int | None:
    """End of the array from sampled densities: first guess from the first window, then one refinement."""
    src, e = p.cur.source, p.e
    first = src.read(start, SAMPLE_BYTES * 4)
    d0 = _density(first, e)
    if not d0:
        return None
    end = start + int(count / d0)
    for _ in range(2):
        span = end - start
        spots = [start + int(span * (j + 0.5) / SAMPLES) for j in range(SAMPLES)]
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:  # round trips, not bytes, dominate here
            windows = list(pool.map(lambda at: src.read(at, SAMPLE_BYTES), spots))
        densities = [_density(w, e) or d0 for w in windows]
        covered, pos = 0.0, float(start)
        seg = span / SAMPLES
        for d in densities:
            if covered + d * seg >= count:
                return int(pos + (count - covered) / d)
            covered, pos = covered + d * seg, pos + seg
        end = int(pos + (count - covered) / densities[-1])
    return end


def _candidates(window: bytes, base: int, p: _Parser) -> list[int]:
    arch = p.metadata.get("general.architecture")
    prefixes = (*KEY_PREFIXES, f"{arch}.".encode()) if isinstance(arch, str) else KEY_PREFIXES
    allowed = prefixes if p.kv_left else TENSOR_PREFIXES
    found = []
    for match in re.finditer(rb"(?=[\x02-\xff]\x00\x00\x00\x00\x00\x00\x00)", window):
        i = match.start()
        n = struct.unpack_from(p.e + "Q", window, i)[0]
        name = window[i + 8 : i + 8 + n]
        if len(name) == n and name.startswith(allowed) and all(32 < c < 127 for c in name):
            found.append(base + i)
    return found


def _verify(p: _Parser, at: int) -> tuple[dict[str, Any], list[TensorInfo], int] | None:
    from runner.fit.gguf_cursor import Cursor
    from runner.fit.gguf_header import (
        GGUFHeaderError,
        _Parser,
        check_offsets,
        header_alignment,
        parse_body,
    )

    cur = Cursor(p.cur.source, 1 << 14, 1 << 20)
    cur.pos = at
    sub = _Parser(cur, p.e, speculate=True)
    sub.spec_depth, sub.verify_budget = p.spec_depth + 1, p.verify_budget
    sub.metadata = {"general.architecture": p.metadata.get("general.architecture")}
    try:
        meta, tensors, end = parse_body(sub, p.kv_left, p.n_tensors)
        meta.pop("general.architecture", None) if "general.architecture" in p.metadata else None
        alignment = header_alignment(cur, {**p.metadata, **meta})
        data_offset = -(-end // alignment) * alignment
        check_offsets(cur, tensors, data_offset, alignment)
    except GGUFHeaderError:
        return None
    size = cur.size
    data_end = data_offset + max((t.offset + t.n_bytes for t in tensors), default=0)
    if size is None or not 0 <= size - data_end < alignment or not tensors:
        return None
    return meta, tensors, end


def skip_string_array_remotely(p: _Parser, count: int) -> tuple[dict[str, Any], list[TensorInfo], int] | None:
    """The verified rest of the header after a `count`-string array starting at the parser's position."""
    start = p.cur.pos
    estimate = _estimate_end(p, start, count)
    if estimate is None:
        return None
    floor = start + 8 * count  # every string has its 8-byte length
    half = max(MIN_WINDOW, int((estimate - start) * WINDOW_FRACTION))
    seen_lo = seen_hi = max(floor, estimate)
    tried = 0
    for _ in range(WIDENINGS):
        lo, hi = max(floor, estimate - half), estimate + half
        # fetch only the flanks not searched yet (with a small overlap for a key cut at the edge)
        for a, b in ((lo, seen_lo + 256), (seen_hi - 256, hi)):
            if b - a <= 256:
                continue
            window = p.cur.source.read(max(a, floor), b - max(a, floor))
            for at in sorted(_candidates(window, max(a, floor), p), key=lambda c: abs(c - estimate)):
                tried += 1
                if tried > MAX_CANDIDATES or p.verify_budget[0] <= 0:
                    return None
                p.verify_budget[0] -= 1
                rest = _verify(p, at)
                if rest is not None:
                    return rest
        seen_lo, seen_hi, half = lo, hi, half * 3
    return None
