"""The `.keras` file itself: a zip of `metadata.json`, `config.json` and `model.weights.h5`.

Reading checks the archive before anything in it is used: exactly those three members, each within
a size limit, stored or deflated (no other compression), no compression ratio beyond what deflate can
produce from real data (and, for a member over 16 MiB, beyond 100:1, so that a small file cannot
make the loader allocate much more than its own size), and the bytes actually read (with their CRC)
matching what the header says. JSON is parsed without NaN or infinities, with a nesting limit and
at most a million objects and lists, and its top level is checked. `config.json` may hold 8 MiB
(about 10,000 layers; parsing JSON can take 15-25 times its size in memory).
"""

from __future__ import annotations

import datetime
import json
import zipfile
import zlib
from typing import Any

from neuralnet.saving.errors import ModelFileError

METADATA = "metadata.json"
CONFIG = "config.json"
WEIGHTS = "model.weights.h5"
MEMBERS = (METADATA, CONFIG, WEIGHTS)

# The Keras release whose file layout neuralnet writes (and reads; older Keras 3 files are alike).
KERAS_FORMAT_VERSION = "3.15.1"

_LIMITS = {METADATA: 1 << 20, CONFIG: 8 << 20, WEIGHTS: 64 << 30}
_MAX_RATIO = 1100  # deflate cannot compress real data by more than ~1032:1
_LARGE = 16 << 20  # a member larger than this (the weights) may expand at most _MAX_LARGE_RATIO
_MAX_LARGE_RATIO = 100  # weights compress ~1.1:1 (10:1 or so when nearly all zeros)
_MAX_DEPTH = 200
_MAX_CONTAINERS = 1_000_000  # objects and lists in one JSON document


def write_archive(path: str, config: dict[str, Any], weights: bytes) -> None:
    """Write a `.keras` archive to `path` (the caller makes the write atomic)."""
    from neuralnet import __version__

    metadata = {
        "keras_version": KERAS_FORMAT_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "neuralnet_version": __version__,
    }
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(METADATA, json.dumps(metadata), compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(CONFIG, json.dumps(config, allow_nan=False),
                         compress_type=zipfile.ZIP_DEFLATED)  # fmt: skip
        archive.writestr(WEIGHTS, weights, compress_type=zipfile.ZIP_STORED)


def read_archive(path: str) -> dict[str, bytes]:
    """The three members of a `.keras` file, after checking the archive."""
    where = path
    try:
        archive = zipfile.ZipFile(path, "r")
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as error:
        # (a directory that points before the start of the file is an OSError: invalid argument)
        raise ModelFileError(f"not a .keras file (not a valid zip archive: {error}).",
                             where) from None  # fmt: skip
    with archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        if len(names) != len(set(names)):
            raise ModelFileError(f"the archive lists a member twice: {sorted(names)}.", where)
        missing = [m for m in MEMBERS if m not in names]
        extra = [n for n in names if n not in MEMBERS]
        if missing or extra:
            raise ModelFileError(
                f"a .keras archive holds exactly {', '.join(MEMBERS)}; this one "
                + (f"lacks {', '.join(missing)}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"also holds {', '.join(repr(e[:80]) for e in extra[:5])}" if extra else "")
                + ".",
                where,
            )
        contents: dict[str, bytes] = {}
        for info in infos:
            member_where = f"{where} > {info.filename}"
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ModelFileError(
                    f"compression method {info.compress_type} is not allowed (stored or deflated "
                    "only).",
                    member_where,
                )
            if info.flag_bits & 0x41:  # encrypted, or strongly encrypted
                raise ModelFileError("the member is encrypted.", member_where)
            limit = _LIMITS[info.filename]
            if info.file_size > limit:
                raise ModelFileError(f"the member claims {info.file_size} bytes, over the "
                                     f"limit of {limit}.", member_where)  # fmt: skip
            ratio = _MAX_LARGE_RATIO if info.file_size > _LARGE else _MAX_RATIO
            if info.file_size > max(info.compress_size, 1) * ratio:
                raise ModelFileError(
                    f"the member would expand {info.file_size / max(info.compress_size, 1):.0f} "
                    f"times to {info.file_size} bytes, more than real data compresses (a zip "
                    "bomb?).",
                    member_where,
                )
            try:
                with archive.open(info) as handle:
                    data = handle.read(info.file_size + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError,
                    OSError) as error:  # fmt: skip
                raise ModelFileError(f"the member is corrupted ({error}).", member_where) from None
            if len(data) != info.file_size:
                raise ModelFileError(
                    f"the member holds {len(data)} bytes, its header says {info.file_size}.",
                    member_where,
                )
            contents[info.filename] = data
    return contents


def parse_json(data: bytes, where: str) -> Any:
    """JSON from a file: UTF-8, no NaN or infinities, nested at most a few hundred levels."""

    def reject(constant: str) -> Any:
        raise ModelFileError(f"{constant} is not allowed in a model file.", where)

    if data.count(b"{") + data.count(b"[") > _MAX_CONTAINERS:
        raise ModelFileError(
            f"the JSON holds more than {_MAX_CONTAINERS} objects and lists, more than any model "
            "needs.",
            where,
        )

    try:
        text = data.decode("utf-8")
        value = json.loads(text, parse_constant=reject)
    except ModelFileError:
        raise
    except UnicodeDecodeError as error:
        raise ModelFileError(f"not UTF-8 text: {error}.", where) from None
    except json.JSONDecodeError as error:
        raise ModelFileError(f"invalid JSON: {error}.", where) from None
    except (RecursionError, ValueError) as error:
        raise ModelFileError(f"unreadable JSON: {error}.", where) from None
    _check_depth(value, where)
    return value


def _check_depth(value: Any, where: str) -> None:
    # Depth first with one iterator per level, so that checking takes memory for the depth only.
    stack = [iter((value,))]
    while stack:
        for item in stack[-1]:
            if len(stack) - 1 > _MAX_DEPTH:
                raise ModelFileError(f"the JSON is nested deeper than {_MAX_DEPTH} levels.", where)
            if isinstance(item, (dict, list)):
                stack.append(iter(item.values() if isinstance(item, dict) else item))
                break
        else:
            stack.pop()


def check_metadata(metadata: Any, where: str) -> None:
    if not isinstance(metadata, dict):
        raise ModelFileError("metadata.json must hold a JSON object.", where)
    version = metadata.get("keras_version")
    if not isinstance(version, str) or not version.startswith("3."):
        raise ModelFileError(
            f"keras_version is {version!r}: only Keras 3 `.keras` files can be loaded (a Keras 2 "
            "SavedModel or .h5 model must be re-saved with Keras 3 first).",
            where,
        )
