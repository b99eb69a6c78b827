"""HTTP content codings of request and response bodies: gzip and deflate always, zstd, lz4
and br when their libraries are installed; decoding stops past a size limit (a small
compressed body must not become gigabytes in memory)."""

from __future__ import annotations

import gzip
import zlib
from typing import Any


def _zstd() -> Any:
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+
    except ImportError:
        from backports import zstd  # type: ignore[no-redef]
    return zstd


def _brotli() -> Any:
    import brotli  # type: ignore[import-not-found]

    return brotli


def _lz4_compress(body: bytes) -> bytes:
    import lz4.frame

    return lz4.frame.compress(body)


def _zstd_compress(body: bytes) -> bytes:
    return _zstd().compress(body)


ENCODERS = {
    "gzip": lambda body: gzip.compress(body, compresslevel=1),
    "deflate": lambda body: zlib.compress(body, 1),
    "zstd": _zstd_compress,
    "lz4": _lz4_compress,
}
try:
    _brotli()
    ENCODERS["br"] = lambda body: _brotli().compress(body, quality=1)
except ImportError:
    pass


def decode(body: bytes, encoding: str, limit: int) -> bytes:
    """A request body without its ``Content-Encoding``, at most ``limit`` bytes
    (``ValueError`` for a body that does not decode, ``OverflowError`` past the limit)."""
    if encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
        try:
            out = zlib.decompressobj(wbits).decompress(body, limit + 1)
        except zlib.error as error:
            raise ValueError(f"not {encoding} data: {error}") from None
    elif encoding == "zstd":
        out = _zstd().ZstdDecompressor().decompress(body, limit + 1)
    elif encoding == "lz4":
        import lz4.frame

        decompressor = lz4.frame.LZ4FrameDecompressor()
        out = decompressor.decompress(body, max_length=limit + 1)
    elif encoding == "br":
        try:
            out = _brotli().decompress(body)
        except ImportError:
            raise ValueError("br is not supported (brotli is not installed)") from None
    elif encoding == "identity":
        return body
    else:
        raise ValueError(f"unknown Content-Encoding {encoding}")
    if len(out) > limit:
        raise OverflowError(f"the decompressed body exceeds {limit} bytes")
    return out
