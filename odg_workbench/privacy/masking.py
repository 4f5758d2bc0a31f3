"""Masking of personal data: five methods over Arrow columns, applied by policy.

Methods (each takes a pyarrow ``Array``/``ChunkedArray`` or a list, returns a pyarrow ``Array``;
nulls stay null)::

    hash        keyed HMAC-SHA256, hex           "448.450.115-57" -> "5f0c...e1" (64 hex digits)
    redact      the value replaced               "Rafaela Lima"   -> "***"  (non-text: null)
    partial     keep the last N characters       "448.450.115-57" -> "***.***.**5-57"  (partial:4)
                (letters and digits masked, punctuation kept, so the format stays readable)
    tokenize    deterministic authenticated      "448.450.115-57" -> "tok_Hq3...";  detokenize() returns
                encryption (AES-SIV), reversible  the value for whoever holds the key and the policy's allow
    generalize  dates and timestamps to their    1979-12-13 -> 1979-01-01 (same type);  "1979-12-13" -> "1979";
                year; numbers to ranges           37 -> "[30, 40)" (generalize:10, the width)

``hash`` and ``tokenize`` are deterministic: equal inputs give equal outputs, so masked
columns still join, group and count distinct. They need the **masking key**: the
environment variable named by the setting ``privacy.masking_key_env`` (default
``ODG_MASKING_KEY``), else the file named by ``privacy.masking_key_file`` (a mounted
secret, e.g. ``/run/secrets/odg_masking_key``). The key is never logged, never put in an
error, an event or the audit trail. A missing (or too short) key raises
:class:`MaskingKeyError` before anything is written: a promotion that needs the key
aborts with no snapshot.

Two sub-keys are derived from the secret with HKDF-SHA256 (distinct ``info`` labels), so
the HMAC key and the AES-SIV key are independent. Tokens are ``tok_`` + URL-safe base64
of the AES-SIV output (16-byte synthetic IV + ciphertext); a wrong key fails AES-SIV's
authentication, so it cannot silently return garbage.

**By policy** (:class:`MaskingService`, ``wb.masking``): a table's classification
(:mod:`odg_workbench.privacy.classification`) says its level, jurisdictions and PII columns
(entity types from detection). Tables at or above ``privacy.mask_level`` (default
Confidential) with a jurisdiction in ``privacy.mask_jurisdictions`` get each PII column
masked with the method of its entity type (:data:`DEFAULT_METHODS`, overridable with
``privacy.masking_methods``). Readers whom the Rego action ``data.read_unmasked`` allows
(``data_access.rego``: Responsible, Accountable, admins) see the data unmasked; everyone
else through :meth:`MaskingService.read` sees it masked. Promotions into Silver and above
write the masked image and record the plan in the snapshot property ``odg.masked-columns``
(a JSON object ``{"column": "method"}``) and in the ``promotion.completed`` event.

Why hand-written: pyarrow has no HMAC or AES kernels and no "mask all but the last N"
function. The cryptography comes from the standard library (SHA-256 for HMAC, whose
keyed states are computed once per column) and ``cryptography`` (HKDF and AES-SIV); this module only maps them over the
*distinct* values of a column (dictionary encoding, then ``take``), so a column of a
million rows with ten thousand distinct values costs ten thousand operations. ``partial``,
``redact`` and ``generalize`` are pyarrow compute kernels end to end.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import OdgError

if TYPE_CHECKING:
    import pyarrow as pa

    from odg_workbench.lakehouse.timetravel import AsOf
    from odg_workbench.privacy.classification import TableClassification
    from odg_workbench.workspace import Workbench

__all__ = [
    "DEFAULT_METHODS",
    "METHODS",
    "MaskSpec",
    "MaskingError",
    "MaskingKey",
    "MaskingKeyError",
    "MaskingPlan",
    "MaskingService",
    "detokenize",
    "generalize",
    "hash_value",
    "load_key",
    "mask_on_promotion",
    "mask_table",
    "masked_columns",
    "partial",
    "promotion_marker",
    "redact",
    "tokenize",
]

log = logging.getLogger(__name__)

#: The masking methods, in the order of the module docs.
METHODS: tuple[str, ...] = ("hash", "redact", "partial", "tokenize", "generalize")
_KEYED = frozenset({"hash", "tokenize"})

#: Method per detected entity type, when ``privacy.masking_methods`` does not say otherwise.
#: Identifiers that analysts join on are hashed; numbers people read back ("card ending
#: 1234") keep their last 4; names and addresses are redacted; birth dates keep the year.
DEFAULT_METHODS: dict[str, str] = {
    "BR_CPF": "hash",
    "BR_CNPJ": "hash",
    "US_SSN": "partial:4",
    "CREDIT_CARD": "partial:4",
    "IBAN": "partial:4",
    "EMAIL": "hash",
    "PHONE": "partial:4",
    "IP_ADDRESS": "hash",
    "PERSON_NAME": "redact",
    "ADDRESS": "redact",
    "DATE_OF_BIRTH": "generalize",
}

#: When a column holds several entity types, the first of this order decides its method.
_PRECEDENCE: tuple[str, ...] = (
    "US_SSN",
    "CREDIT_CARD",
    "IBAN",
    "BR_CPF",
    "BR_CNPJ",
    "PERSON_NAME",
    "ADDRESS",
    "EMAIL",
    "PHONE",
    "IP_ADDRESS",
    "DATE_OF_BIRTH",
)

MASKED_COLUMNS_PROPERTY = "odg.masked-columns"
_MIN_KEY_CHARS = 16
_TOKEN_PREFIX = "tok_"
_TOKEN_AD = b"odg-workbench tokenize v1"
_REDACTED = "***"
_GENERALIZE_WIDTH = 10


class MaskingError(OdgError, ValueError):
    """A masking method, argument or plan that cannot be applied to a column."""


class MaskingKeyError(MaskingError):
    """The masking key is missing, too short, or is not the key a token was made with.

    The message names where the key is looked for, never its value.
    """


# -- the key ----------------------------------------------------------------------------------


class MaskingKey:
    """The masking secret and the two keys derived from it (HMAC, AES-SIV). Its repr hides them."""

    __slots__ = ("_hash_key", "_token_key", "source")

    def __init__(self, secret: str | bytes, *, source: str = "a key given in code") -> None:
        raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        raw = raw.strip()
        if len(raw) < _MIN_KEY_CHARS:
            raise MaskingKeyError(
                f"the masking key from {source} is {len(raw)} characters long; use at least {_MIN_KEY_CHARS} "
                "(e.g. the output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)",
                source=source,
            )
        self.source = source
        self._hash_key = _derive(raw, b"odg-workbench masking hash v1", 32)
        self._token_key = _derive(raw, b"odg-workbench masking tokenize v1", 64)

    @property
    def hash_key(self) -> bytes:
        return self._hash_key

    @property
    def token_key(self) -> bytes:
        return self._token_key

    def __repr__(self) -> str:
        return f"MaskingKey(source={self.source!r})"


def _derive(secret: bytes, info: bytes, length: int) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)


def load_key(workbench: Workbench | None = None, *, env: str | None = None, file: str | None = None) -> MaskingKey:
    """The masking key: the environment variable, else the key file, else :class:`MaskingKeyError`.

    ``env`` and ``file`` default to the settings ``privacy.masking_key_env`` and
    ``privacy.masking_key_file`` of ``workbench`` (``ODG_MASKING_KEY`` and none without one).
    """
    if env is None:
        env = str(workbench.config.get("privacy.masking_key_env")) if workbench is not None else "ODG_MASKING_KEY"
    if file is None:
        file = str(workbench.config.get("privacy.masking_key_file")) if workbench is not None else ""
    value = os.environ.get(env, "") if env else ""
    if value.strip():
        return MaskingKey(value, source=f"${env}")
    if file:
        path = Path(file).expanduser()
        try:
            return MaskingKey(path.read_bytes(), source=f"the key file {path}")
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise MaskingKeyError(
                f"cannot read the masking key file {path}: {exc.strerror}",
                path=str(path),
                setting="privacy.masking_key_file",
            ) from None
    where = f"the environment variable {env}" if env else "no environment variable (privacy.masking_key_env is empty)"
    if file:
        where += f" or the file {file}"
    raise MaskingKeyError(
        f"no masking key: hash and tokenize need a secret key, looked for in {where}; "
        f"set it (e.g. export {env or 'ODG_MASKING_KEY'}=$(python -c 'import secrets; print(secrets.token_urlsafe(32))')) "
        "and keep it: the same key gives the same pseudonyms, and only it reverses tokens",
        env=env or None,
        setting="privacy.masking_key_env",
    )


KeySource = MaskingKey | Callable[[], MaskingKey] | None


def _key(key: KeySource, method: str) -> MaskingKey:
    if isinstance(key, MaskingKey):
        return key
    if key is None:
        raise MaskingKeyError(f"{method} needs a masking key (see load_key)")
    return key()


# -- Arrow helpers ------------------------------------------------------------------------------


def _array(values: Any) -> pa.Array:
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        arr = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
        if values.num_chunks == 0:
            arr = pa.array([], type=values.type)
    elif isinstance(values, pa.Array):
        arr = values
    else:
        arr = pa.array(list(values))
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr


def _is_text(t: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


def _text_type(t: pa.DataType) -> pa.DataType:
    import pyarrow as pa

    return pa.large_string() if pa.types.is_large_string(t) else pa.string()


def _as_text(arr: pa.Array, method: str) -> pa.Array:
    """Text view of a column for methods that work on characters (values cast to text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if _is_text(arr.type):
        return arr
    if pa.types.is_nested(arr.type):
        raise MaskingError(f"{method} cannot mask a nested column of type {arr.type}", found=str(arr.type))
    try:
        return pc.cast(arr, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise MaskingError(f"{method} cannot mask values of type {arr.type}: {exc}", found=str(arr.type)) from None


def _map_distinct(arr: pa.Array, fn: Callable[[bytes], str], out_type: pa.DataType) -> pa.Array:
    """``fn`` over the distinct non-null values (as bytes), spread back over the rows."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(arr)
    dictionary = encoded.dictionary
    if pa.types.is_binary(dictionary.type) or pa.types.is_large_binary(dictionary.type):
        raw: list[Any] = dictionary.to_pylist()
    else:
        raw = [v.encode("utf-8") for v in dictionary.to_pylist()]
    mapped = pa.array([fn(v) for v in raw], type=out_type)
    return pc.take(mapped, encoded.indices)


def _bytes_view(arr: pa.Array, method: str) -> tuple[pa.Array, pa.DataType]:
    import pyarrow as pa

    if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
        return arr, pa.string()
    text = _as_text(arr, method)
    return text, _text_type(text.type)


# -- the methods --------------------------------------------------------------------------------


def hash_value(values: Any, key: KeySource) -> pa.Array:
    """HMAC-SHA256 of each value (its text form for non-text columns), as 64 hex digits."""
    inner, outer = _hmac_states(_key(key, "hash").hash_key)
    arr, out_type = _bytes_view(_array(values), "hash")

    def one(v: bytes) -> str:
        i = inner.copy()
        i.update(v)
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()

    return _map_distinct(arr, one, out_type)


def _hmac_states(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """HMAC-SHA256 (RFC 2104) with the keyed inner and outer states computed once.

    Copying the two states per value gives the same digests as :func:`hmac.digest` at
    half its cost (OpenSSL sets up a new HMAC context on every call).
    """
    block = key.ljust(64, b"\0") if len(key) <= 64 else hashlib.sha256(key).digest().ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
    return inner, outer


def redact(values: Any, replacement: str = _REDACTED) -> pa.Array:
    """Every non-null text value becomes ``replacement``; other types become null (type kept)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _array(values)
    if _is_text(arr.type):
        filled = pa.array([replacement] * len(arr), type=arr.type) if len(arr) else arr
        return pc.if_else(pc.is_null(arr), pa.scalar(None, arr.type), filled)
    return pa.nulls(len(arr), type=arr.type)


def partial(values: Any, keep: int = 4, mask_char: str = "*") -> pa.Array:
    """Keep the last ``keep`` characters; letters and digits before them become ``mask_char``.

    Punctuation, spaces and ``@`` stay, so the shape of the value stays readable
    (``"***.***.**5-57"``, ``"*******@*****.com"``). Non-text values are masked as text.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if keep < 0:
        raise MaskingError(f"partial keeps a number of characters >= 0, found {keep}", found=keep)
    if len(mask_char) != 1:
        raise MaskingError(f"partial masks with one character, found {mask_char!r}", found=mask_char)
    text = _as_text(_array(values), "partial")
    if keep == 0:
        return pc.replace_substring_regex(text, r"[\pL\pN]", _regex_literal(mask_char))
    head = pc.utf8_slice_codeunits(text, start=0, stop=-keep)
    tail = pc.utf8_slice_codeunits(text, start=-keep)
    masked_head = pc.replace_substring_regex(head, r"[\pL\pN]", _regex_literal(mask_char))
    return pc.binary_join_element_wise(masked_head, tail, pa.scalar("", type=text.type))


def _regex_literal(char: str) -> str:
    return char.replace("\\", "\\\\")


def tokenize(values: Any, key: KeySource) -> pa.Array:
    """Deterministic AES-SIV encryption of each value's text: ``tok_<base64url>``; see :func:`detokenize`."""
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

    siv = AESSIV(_key(key, "tokenize").token_key)
    arr, out_type = _bytes_view(_array(values), "tokenize")

    def one(v: bytes) -> str:
        return _TOKEN_PREFIX + base64.urlsafe_b64encode(siv.encrypt(v, [_TOKEN_AD])).rstrip(b"=").decode("ascii")

    return _map_distinct(arr, one, out_type)


def detokenize(values: Any, key: KeySource, *, type: pa.DataType | None = None) -> pa.Array:
    """The values :func:`tokenize` encrypted (as text, or cast to ``type``).

    A value that is not a token, or a token made with another key, raises
    :class:`MaskingKeyError` naming it; nothing is returned in part.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

    mk = _key(key, "detokenize")
    siv = AESSIV(mk.token_key)
    arr = _array(values)
    if not _is_text(arr.type):
        raise MaskingError(f"tokens are text, found a column of type {arr.type}", found=str(arr.type))

    def one(v: bytes) -> str:
        text = v.decode("utf-8")
        if not text.startswith(_TOKEN_PREFIX):
            raise MaskingError(f"{_shorten(text)!r} is not a token (tokens start with {_TOKEN_PREFIX!r})")
        body = text.removeprefix(_TOKEN_PREFIX)
        try:
            data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return siv.decrypt(data, [_TOKEN_AD]).decode("utf-8")
        except (InvalidTag, ValueError):
            raise MaskingKeyError(
                f"token {_shorten(text)!r} cannot be decrypted with the masking key from {mk.source}: "
                "it was made with another key, or it is damaged",
                source=mk.source,
            ) from None

    out = _map_distinct(arr, one, pa.string())
    if type is not None:
        try:
            return pc.cast(out, type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise MaskingError(f"detokenized values do not cast to {type}: {exc}", expected=str(type)) from None
    return out


def _shorten(text: str, n: int = 24) -> str:
    return text if len(text) <= n else text[:n] + "..."


_ISO_YEAR = r"^\s*(?P<year>\d{4})-\d{2}-\d{2}"


def generalize(values: Any, width: float | None = None) -> pa.Array:
    """Dates and timestamps to January 1 of their year (type kept); ISO date text to ``"YYYY"``;
    numbers to half-open ranges of ``width`` (default 10) as text: ``37 -> "[30, 40)"``.

    Text that is not an ISO date becomes null (it cannot be generalized, and is not kept).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _array(values)
    t = arr.type
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        return pc.floor_temporal(arr, unit="year")
    if _is_text(t):
        year = pc.extract_regex(arr, _ISO_YEAR)
        out = pc.struct_field(year, [0])
        return pc.cast(out, _text_type(t))
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        w = float(width if width is not None else _GENERALIZE_WIDTH)
        if not w > 0:
            raise MaskingError(f"generalize needs a range width > 0, found {width}", found=width)
        as_float = pc.cast(arr, pa.float64())
        low = pc.multiply(pc.floor(pc.divide(as_float, w)), w)
        high = pc.add(low, w)
        integral = float(w).is_integer() and not pa.types.is_floating(t)
        if integral:
            low_text, high_text = (
                pc.cast(pc.cast(low, pa.int64()), pa.string()),
                pc.cast(pc.cast(high, pa.int64()), pa.string()),
            )
        else:
            low_text, high_text = pc.cast(low, pa.string()), pc.cast(high, pa.string())
        return pc.binary_join_element_wise("[", low_text, ", ", high_text, ")", "")
    raise MaskingError(
        f"generalize takes dates, timestamps, numbers or ISO date text, found a column of type {t}",
        expected="date, timestamp, number or ISO date text",
        found=str(t),
    )


# -- method specs and plans ----------------------------------------------------------------------


@dataclass(frozen=True)
class MaskSpec:
    """A method and its argument: ``"hash"``, ``"partial:4"``, ``"generalize:5"``, ``"redact"``."""

    method: str
    arg: float | None = None

    @classmethod
    def parse(cls, text: str, *, where: str = "a masking method") -> MaskSpec:
        name, sep, arg = str(text).strip().partition(":")
        method = name.strip().lower()
        if method not in METHODS:
            raise MaskingError(
                f"{where}: unknown masking method {text!r}; known: {', '.join(METHODS)} "
                "(partial and generalize take an argument: partial:4, generalize:10)",
                found=str(text),
                expected=list(METHODS),
            )
        if not sep:
            return cls(method)
        if method not in ("partial", "generalize"):
            raise MaskingError(f"{where}: {method} takes no argument, found {text!r}", found=str(text))
        try:
            value = float(arg)
        except ValueError:
            raise MaskingError(f"{where}: {method} takes a number, found {text!r}", found=str(text)) from None
        if method == "partial" and (not value.is_integer() or value < 0):
            raise MaskingError(f"{where}: partial keeps a whole number of characters, found {text!r}", found=text)
        if method == "generalize" and value <= 0:
            raise MaskingError(f"{where}: generalize needs a width > 0, found {text!r}", found=text)
        return cls(method, value)

    @property
    def needs_key(self) -> bool:
        return self.method in _KEYED

    def apply(self, values: Any, key: KeySource = None) -> pa.Array:
        if self.method == "hash":
            return hash_value(values, key)
        if self.method == "tokenize":
            return tokenize(values, key)
        if self.method == "redact":
            return redact(values)
        if self.method == "partial":
            return partial(values, int(self.arg) if self.arg is not None else 4)
        return generalize(values, self.arg)

    def __str__(self) -> str:
        if self.arg is None:
            return self.method
        return f"{self.method}:{int(self.arg) if float(self.arg).is_integer() else self.arg}"


def mask_table(table: pa.Table, plan: Mapping[str, str | MaskSpec], key: KeySource = None) -> pa.Table:
    """``table`` with each column of ``plan`` masked by its method (other columns untouched).

    Every column is masked before anything is returned, and a keyed method with no key
    fails before any column is touched.
    """
    specs = {col: s if isinstance(s, MaskSpec) else MaskSpec.parse(s, where=f"column {col}") for col, s in plan.items()}
    missing = [c for c in specs if c not in table.column_names]
    if missing:
        raise MaskingError(
            f"masking plan names column(s) {', '.join(missing)} that the table does not have "
            f"(columns: {', '.join(table.column_names)})",
            found=missing,
        )
    resolved: KeySource = None
    if any(s.needs_key for s in specs.values()):
        resolved = _key(key, "hash/tokenize")
    out = table
    for col, spec in specs.items():
        i = out.schema.get_field_index(col)
        try:
            masked = spec.apply(out.column(i), resolved)
        except MaskingError as exc:
            raise type(exc)(f"column {col}: {exc.message}", column=col, **exc.details) from None
        field_ = out.schema.field(i)
        out = out.set_column(i, field_.with_type(masked.type), masked)
    return out


def masked_columns(properties: Mapping[str, str] | None) -> dict[str, str]:
    """The ``odg.masked-columns`` record of snapshot properties (``{}`` when none)."""
    text = (properties or {}).get(MASKED_COLUMNS_PROPERTY)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {c.strip(): "masked" for c in text.split(",") if c.strip()}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _pick(entities: Iterable[str]) -> str | None:
    ents = list(entities)
    for e in _PRECEDENCE:
        if e in ents:
            return e
    return ents[0] if ents else None


@dataclass
class MaskingPlan:
    """Which columns of a table an actor sees masked, and why.

    ``columns``: column -> method masked for this actor; ``stored``: columns the data
    already holds masked (``odg.masked-columns`` of the snapshot read; filled by reads).
    """

    table: str
    actor: str
    columns: dict[str, str]
    unmasked: bool
    reasons: list[str]
    in_scope: bool
    classification: TableClassification | None = None
    entities: dict[str, str] = field(default_factory=dict)
    stored: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "actor": self.actor,
            "plan": dict(self.columns),
            "entities": dict(self.entities),
            "stored_masked": dict(self.stored),
            "unmasked": self.unmasked,
            "in_scope": self.in_scope,
            "reasons": list(self.reasons),
            "classification": self.classification.to_dict() if self.classification else None,
        }


class MaskingService:
    """Masking decided by classification, jurisdiction and policy. Reach it as ``wb.masking``."""

    def __init__(self, workbench: Workbench) -> None:
        self._wb = workbench

    # -- settings -------------------------------------------------------------------------

    def methods(self) -> dict[str, MaskSpec]:
        """Method per entity type: :data:`DEFAULT_METHODS` with ``privacy.masking_methods`` over it."""
        out = {e: MaskSpec.parse(m) for e, m in DEFAULT_METHODS.items()}
        text = str(self._wb.config.get("privacy.masking_methods") or "")
        for item in text.split(","):
            if not item.strip():
                continue
            entity, sep, method = item.partition("=")
            entity = entity.strip().upper()
            if not sep or not entity:
                raise MaskingError(
                    f"setting privacy.masking_methods: {item.strip()!r} is not ENTITY=METHOD (e.g. EMAIL=partial:4)",
                    setting="privacy.masking_methods",
                    found=item.strip(),
                )
            out[entity] = MaskSpec.parse(method, where=f"setting privacy.masking_methods ({entity})")
        return out

    def _scope(self) -> tuple[int, set[str]]:
        from odg_workbench.privacy.classification import Jurisdiction, Level

        level = Level.parse(str(self._wb.config.get("privacy.mask_level")), where="setting privacy.mask_level")
        jur = {j.value for j in Jurisdiction.parse_many(str(self._wb.config.get("privacy.mask_jurisdictions")))}
        return int(level), jur

    def in_scope(self, classification: TableClassification) -> bool:
        """The table's level reaches ``privacy.mask_level`` and a jurisdiction is in ``privacy.mask_jurisdictions``."""
        min_level, jurisdictions = self._scope()
        tables_jur = {j.value for j in classification.jurisdictions} or {"GLOBAL"}
        return int(classification.level) >= min_level and bool(tables_jur & jurisdictions)

    # -- plans ----------------------------------------------------------------------------

    def policy_plan(
        self, classification: TableClassification, columns: Sequence[str] | None = None
    ) -> tuple[dict[str, str], dict[str, str]]:
        """``(column -> method, column -> entity)`` for a classification, ignoring who reads."""
        if not self.in_scope(classification):
            return {}, {}
        methods = self.methods()
        plan: dict[str, str] = {}
        entities: dict[str, str] = {}
        for col, found in classification.pii_columns.items():
            if columns is not None and col not in columns:
                continue
            entity = _pick(found)
            if entity is None:
                continue
            plan[col] = str(methods.get(entity, MaskSpec("redact")))
            entities[col] = entity
        return plan, entities

    def explain(self, table: str, *, actor: str | None = None, as_of: AsOf | None = None) -> MaskingPlan:
        """The plan for ``actor`` (default: the workspace user) on a snapshot (default: the current
        one), with the policy's reasons. Columns the snapshot holds masked already are in
        ``stored``, not in ``columns``."""
        from odg_workbench.lakehouse.names import TableName

        wb = self._wb
        name = str(TableName.parse(table))
        actor = actor or wb.user
        lake = wb.table(name)
        stored: dict[str, str] = {}
        if as_of is not None or lake.current_snapshot_id is not None:
            snap = lake.snapshot(as_of)
            as_of = snap.snapshot_id
            stored = masked_columns(snap.summary)
        columns = [f.name for f in lake.iceberg.schema().fields]
        classification = wb.classifications.get(name) or wb.classifications.suggest(name, as_of=as_of)
        policy_plan, entities = self.policy_plan(classification, columns)
        decision = wb.raci.authorize("data.read_unmasked", dataset=name, actor=actor)
        reasons = list(decision.reasons)
        in_scope = self.in_scope(classification)
        if not in_scope:
            reasons.insert(
                0,
                f"{name} is {classification.level.label} ({', '.join(j.value for j in classification.jurisdictions)}): "
                "below privacy.mask_level or outside privacy.mask_jurisdictions, nothing is masked",
            )
        if stored:
            reasons.append(f"already masked in the data: {', '.join(f'{c} ({m})' for c, m in stored.items())}")
        return MaskingPlan(
            table=name,
            actor=actor,
            columns={} if decision.allowed else {c: m for c, m in policy_plan.items() if c not in stored},
            unmasked=decision.allowed,
            reasons=reasons,
            in_scope=in_scope,
            classification=classification,
            entities=entities,
            stored={c: m for c, m in stored.items() if c in columns},
        )

    def plan(self, table: str, *, actor: str | None = None) -> dict[str, str]:
        """Column -> method for ``actor``; empty when the policy lets the actor read unmasked."""
        return self.explain(table, actor=actor).columns

    # -- reading --------------------------------------------------------------------------

    def read(
        self,
        table: str,
        *,
        as_of: AsOf | None = None,
        actor: str | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        reveal: bool = False,
    ) -> pa.Table:
        """The table as ``actor`` may see it: masked by :meth:`plan` unless the policy allows unmasked.

        Columns the snapshot already holds masked (``odg.masked-columns``) are not masked
        again. ``reveal=True`` (actors allowed ``data.read_unmasked`` only) decrypts the
        columns that were tokenized when the data was promoted. An unmasked read of
        personal data is recorded in the audit trail (``privacy.unmasked_read``).
        """
        return self.read_with_plan(table, as_of=as_of, actor=actor, columns=columns, limit=limit, reveal=reveal)[0]

    def read_with_plan(
        self,
        table: str,
        *,
        as_of: AsOf | None = None,
        actor: str | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        reveal: bool = False,
    ) -> tuple[pa.Table, MaskingPlan]:
        """:meth:`read`, with the plan applied: ``columns`` masked by this read, ``stored`` those
        the snapshot holds masked already."""
        from odg_workbench.governance.policy import denied_error

        wb = self._wb
        lake = wb.table(table)
        snap = lake.snapshot(as_of)
        mp = self.explain(table, actor=actor, as_of=snap.snapshot_id)
        data = lake.to_arrow(as_of=snap.snapshot_id, columns=list(columns) if columns else None, limit=limit)
        stored = {c: m for c, m in mp.stored.items() if c in data.column_names}
        revealed: list[str] = []
        if reveal:
            if not mp.unmasked:
                raise denied_error(wb.raci.authorize("data.read_unmasked", dataset=mp.table, actor=mp.actor))
            revealed = [c for c, m in stored.items() if m == "tokenize"]
            if revealed:
                key = load_key(wb)
                for col in revealed:
                    i = data.schema.get_field_index(col)
                    data = data.set_column(i, col, detokenize(data.column(i), key))
                stored = {c: m for c, m in stored.items() if c not in revealed}
        mp.columns = {c: m for c, m in mp.columns.items() if c in data.column_names and c not in stored}
        mp.stored = stored
        if mp.columns:
            return mask_table(data, mp.columns, lambda: load_key(wb)), mp
        sensitive: list[str] = []
        if mp.unmasked and mp.classification is not None:
            policy_plan, _ = self.policy_plan(mp.classification, data.column_names)
            sensitive = [c for c in policy_plan if c not in stored]
        if sensitive or revealed:
            wb.publish(
                "privacy.unmasked_read",
                mp.table,
                reader=mp.actor,
                columns=sorted({*sensitive, *revealed}),
                snapshot_id=snap.snapshot_id,
                rows=data.num_rows,
            )
        return data, mp

    def detokenize(self, table: str, tokens: Sequence[str], *, actor: str | None = None) -> list[str | None]:
        """The values behind tokens of ``table``: needs ``data.read_unmasked`` for the actor and the key."""
        from odg_workbench.governance.policy import denied_error
        from odg_workbench.lakehouse.names import TableName

        wb = self._wb
        name = str(TableName.parse(table))
        actor = actor or wb.user
        wb.table(name)  # the table must exist (TableNotFoundError otherwise)
        decision = wb.raci.authorize("data.read_unmasked", dataset=name, actor=actor)
        if not decision.allowed:
            raise denied_error(decision)
        import pyarrow as pa

        values: list[str | None] = detokenize(pa.array(list(tokens), type=pa.string()), load_key(wb)).to_pylist()
        wb.publish("privacy.detokenized", name, reader=actor, count=len(values))
        return values

    # -- promotion ------------------------------------------------------------------------

    def promotion_plan(self, source: str, target: str) -> dict[str, str]:
        """Column -> method applied when ``source`` is promoted to ``target``.

        Only *stored* classifications count (the owner's decision, not a suggestion): the
        source's, else the target's.
        """
        wb = self._wb
        classification = wb.classifications.get(source) or wb.classifications.get(target)
        if classification is None:
            return {}
        return self.policy_plan(classification)[0]


def promotion_marker(workbench: Workbench, source: str, target: str) -> str:
    """Text that changes when the promotion's masking plan changes (empty when nothing is masked).

    The promotion folds it into its idempotence marker, so classifying a table and
    promoting the same snapshot again writes the masked image.
    """
    plan = workbench.masking.promotion_plan(source, target)
    return f"\nmask:{json.dumps(plan, sort_keys=True)}" if plan else ""


def mask_on_promotion(
    workbench: Workbench, source: str, target: str, data: pa.Table
) -> tuple[pa.Table, dict[str, str]]:
    """The data a promotion writes, masked by the source's classification, and what was masked.

    Columns a transformation created (absent from the source) are scanned, and masked when
    they hold personal data, so renaming a column does not slip it through. Raises
    :class:`MaskingKeyError` before anything is written when the plan needs the key.
    """
    service = workbench.masking
    plan = {c: m for c, m in service.promotion_plan(source, target).items() if c in data.column_names}
    classification = workbench.classifications.get(source) or workbench.classifications.get(target)
    if classification is not None and service.in_scope(classification):
        source_columns = {f.name for f in workbench.table(source).iceberg.schema().fields}
        new = [c for c in data.column_names if c not in source_columns and not c.startswith("_odg_")]
        if new:
            from odg_workbench.privacy.detect import scan

            found = scan(data.select(new)).pii_columns
            methods = service.methods()
            for col, ents in found.items():
                entity = _pick(ents)
                if entity is not None:
                    plan[col] = str(methods.get(entity, MaskSpec("redact")))
    if not plan:
        return data, {}
    masked = mask_table(data, plan, lambda: load_key(workbench))
    return masked, plan
