"""The API's JSON parser: DRF's, plus a nesting limit checked before the body is decoded.

Python's decoder recurses once per nesting level, so a body nested about a thousand deep
raised RecursionError, which no handler expected: a 500. Real requests to this API are at most
two levels deep; anything beyond JSON_MAX_DEPTH is refused with 400 before decoding starts.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

JSON_MAX_DEPTH = 32

# A JSON string (skipped whole, so brackets inside it do not count) or one bracket.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in `raw`, without recursing."""
    depth = deepest = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


class DepthLimitedJSONParser(JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        raw = stream.read() if stream is not None else b""
        if json_depth(raw) > JSON_MAX_DEPTH:
            raise ParseError(f"JSON nested deeper than {JSON_MAX_DEPTH} levels.")
        return super().parse(io.BytesIO(raw), media_type, parser_context)
