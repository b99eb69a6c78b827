"""ClickHouse's Native wire details that chDB does not produce itself.

- ``with_block_info``: chDB writes Native blocks in the layout of protocol revision 0. A client
  that sends ``client_protocol_version=N`` (clickhouse-go always, clickhouse-connect after a
  probe) reads the layout of revision N: a BlockInfo before each block and, from revision
  54454, a ``has_custom_serialization`` byte after each column type. Inserting those needs the
  length of every column's data, so the column data is walked by type.
- ``compress_blocks`` / ``decompress_blocks``: the compressed-block framing of ``compress=1``
  / ``decompress=1`` (CityHash128 v1.0.2 checksum, method byte, sizes, LZ4/ZSTD payload).
"""

from __future__ import annotations

import re
import struct

REVISION_WITH_CUSTOM_SERIALIZATION = 54454
_BLOCK_INFO = b"\x01\x00\x02\xff\xff\xff\xff\x00"  # is_overflows=0, bucket_num=-1, end

_FIXED_WIDTH = {
    **dict.fromkeys(("UInt8", "Int8", "Bool", "Enum8", "Nothing"), 1),
    **dict.fromkeys(("UInt16", "Int16", "Date", "Enum16", "BFloat16"), 2),
    **dict.fromkeys(("UInt32", "Int32", "Float32", "DateTime", "Date32", "IPv4", "Time"), 4),
    **dict.fromkeys(("UInt64", "Int64", "Float64", "DateTime64", "Time64"), 8),
    **dict.fromkeys(("UInt128", "Int128", "UUID", "IPv6"), 16),
    **dict.fromkeys(("UInt256", "Int256"), 32),
}


class NativeError(ValueError):
    """A Native stream that cannot be re-encoded (a type this module does not walk)."""


def _varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _string(data: bytes | memoryview, pos: int) -> tuple[bytes, int]:
    length, pos = _varint(data, pos)
    return bytes(data[pos : pos + length]), pos + length


def split_type(type_name: str) -> tuple[str, list[str]]:
    """``Map(String, Array(UInt8))`` -> ``("Map", ["String", "Array(UInt8)"])``."""
    open_at = type_name.find("(")
    if open_at < 0:
        return type_name.strip(), []
    head, inner = type_name[:open_at].strip(), type_name[open_at + 1 : type_name.rfind(")")]
    arguments, depth, quote, start = [], 0, "", 0
    for index, ch in enumerate(inner):
        if quote:
            if ch == quote and inner[index - 1] != "\\":
                quote = ""
        elif ch in "'`\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            arguments.append(inner[start:index].strip())
            start = index + 1
    arguments.append(inner[start:].strip())
    return head, arguments


def _skip_column(data: memoryview, pos: int, type_name: str, rows: int) -> int:
    head, arguments = split_type(type_name)
    if head == "LowCardinality":
        # nothing at all for zero rows (an empty array's elements)
        return _skip_low_cardinality(data, pos, arguments[0]) if rows else pos
    if head in _FIXED_WIDTH:
        return pos + _FIXED_WIDTH[head] * rows
    if head == "String":
        for _ in range(rows):
            length, pos = _varint(data, pos)
            pos += length
        return pos
    if head == "FixedString":
        return pos + int(arguments[0]) * rows
    if head == "Decimal":
        precision = int(arguments[0])
        return pos + rows * (4 if precision <= 9 else 8 if precision <= 18 else
                             16 if precision <= 38 else 32)
    if head in ("Decimal32", "Decimal64", "Decimal128", "Decimal256"):
        return pos + rows * int(head[7:]) // 8
    if head == "Nullable":
        return _skip_column(data, pos + rows, arguments[0], rows)
    if head in ("Array", "Map"):
        inner_rows = struct.unpack_from("<Q", data, pos + 8 * (rows - 1))[0] if rows else 0
        pos += 8 * rows
        if head == "Array":
            return _skip_column(data, pos, arguments[0], inner_rows)
        for element in arguments:
            pos = _skip_column(data, pos, element, inner_rows)
        return pos
    if head == "Tuple":
        for element in arguments:
            pos = _skip_column(data, pos, _element_type(element), rows)
        return pos
    if head == "SimpleAggregateFunction":
        return _skip_column(data, pos, arguments[1], rows)
    if head.startswith("Interval"):
        return pos + 8 * rows
    raise NativeError(f"type {type_name} cannot be sent with client_protocol_version")


_NAMED_ELEMENT = re.compile(r"\s*(`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)\s+(\S.*)", re.DOTALL)


_LC_GLOBAL_DICTIONARY = 1 << 8
_LC_ADDITIONAL_KEYS = 1 << 9


def _skip_low_cardinality(data: memoryview, pos: int, inner: str) -> int:
    """Index type, additional keys, then the indexes (one granule)."""
    flags = struct.unpack_from("<Q", data, pos)[0]
    pos += 8
    if flags & _LC_GLOBAL_DICTIONARY:
        raise NativeError("LowCardinality with a global dictionary cannot be re-encoded")
    head, arguments = split_type(inner)
    keys_type = arguments[0] if head == "Nullable" else inner
    if flags & _LC_ADDITIONAL_KEYS:
        keys = struct.unpack_from("<Q", data, pos)[0]
        pos = _skip_column(data, pos + 8, keys_type, keys)
    indexes = struct.unpack_from("<Q", data, pos)[0]
    return pos + 8 + indexes * (1 << (flags & 0xFF))


def _skip_prefix(data: memoryview, pos: int, type_name: str) -> int:
    """The serialization-state prefixes of a column, written before all of its data: only
    LowCardinality has one (its key version), wherever it is nested."""
    head, arguments = split_type(type_name)
    if head == "LowCardinality":
        return pos + 8
    if head in ("Array", "Map", "Nullable"):
        for element in arguments:
            pos = _skip_prefix(data, pos, element)
    elif head == "Tuple":
        for element in arguments:
            pos = _skip_prefix(data, pos, _element_type(element))
    return pos


def _element_type(element: str) -> str:
    """A tuple element's type without its name (``a String`` -> ``String``)."""
    named = _NAMED_ELEMENT.fullmatch(element)
    return named.group(2).strip() if named else element


def with_block_info(payload: bytes, revision: int) -> bytes:
    """chDB's revision-0 Native stream re-encoded for a client of ``revision``."""
    if revision <= 0 or not payload:
        return payload
    custom_flag = revision >= REVISION_WITH_CUSTOM_SERIALIZATION
    data = memoryview(payload)
    out = bytearray()
    pos = 0
    while pos < len(data):
        out += _BLOCK_INFO
        block_start = pos
        columns, pos = _varint(data, pos)
        rows, pos = _varint(data, pos)
        out += data[block_start:pos]
        for _ in range(columns):
            column_start = pos
            _, pos = _string(data, pos)
            type_bytes, pos = _string(data, pos)
            out += data[column_start:pos]
            if custom_flag:
                out.append(0)
            data_start = pos
            if rows:  # zero rows are always zero bytes, prefixes included
                type_name = type_bytes.decode()
                pos = _skip_column(data, _skip_prefix(data, pos, type_name), type_name, rows)
            out += data[data_start:pos]
    return bytes(out)


# -- compressed blocks ---------------------------------------------------------------------
_NONE, _LZ4, _ZSTD = 0x02, 0x82, 0x90
_HEADER = struct.Struct("<BII")
BLOCK_SIZE = 1 << 20


class CompressionError(ValueError):
    """A compressed-block stream that is corrupt or uses an unknown method."""


def _checksum(block: bytes | memoryview) -> bytes:
    from clickhouse_cityhash.cityhash import CityHash128

    value = CityHash128(bytes(block))
    return struct.pack("<QQ", value >> 64, value & 0xFFFFFFFFFFFFFFFF)  # CityHash128 (low, high)


def compress_blocks(payload: bytes) -> bytes:
    """``payload`` as LZ4 compressed blocks of at most ``BLOCK_SIZE`` bytes each."""
    import lz4.block

    out = bytearray()
    for offset in range(0, len(payload), BLOCK_SIZE):
        chunk = payload[offset : offset + BLOCK_SIZE]
        compressed = lz4.block.compress(chunk, store_size=False)
        block = _HEADER.pack(_LZ4, len(compressed) + 9, len(chunk)) + compressed
        out += _checksum(block) + block
    return bytes(out)


def decompress_blocks(payload: bytes, limit: int) -> bytes:
    """The data of a compressed-block stream; checksums verified, output bounded by ``limit``."""
    data = memoryview(payload)
    out = bytearray()
    pos = 0
    while pos < len(data):
        if len(data) - pos < 25:
            raise CompressionError("truncated compressed block header")
        checksum = bytes(data[pos : pos + 16])
        method, size, plain = _HEADER.unpack_from(data, pos + 16)
        block = data[pos + 16 : pos + 16 + size]
        if len(block) != size or size < 9:
            raise CompressionError("truncated compressed block")
        if _checksum(block) != checksum:
            raise CompressionError("checksum doesn't match: corrupted data")
        if len(out) + plain > limit:
            raise OverflowError("decompressed body exceeds the request size limit")
        out += _decompress(method, block[9:], plain)
        pos += 16 + size
    return bytes(out)


def _decompress(method: int, payload: memoryview, plain: int) -> bytes:
    if method == _NONE:
        return bytes(payload)
    if method == _LZ4:
        import lz4.block

        return lz4.block.decompress(bytes(payload), uncompressed_size=plain)
    if method == _ZSTD:
        from clickhouse_connect.driver.compression import _zstd_decompress

        return _zstd_decompress(bytes(payload))
    raise CompressionError(f"unknown compression method 0x{method:02x}")
