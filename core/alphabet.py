"""Amino-acid alphabets and the numeric encodings models use: tokens, one-hot and BLOSUM62 rows.

Conventions shared by every encoder here:

- input is upper- or lower-case; ``'.'`` (Pfam/A2M insert gap) counts as a gap like ``'-'``;
- token ids: 0 = padding, 1..20 = :data:`AA20` in order, 21 = X and any other letter or symbol
  (the non-standard B Z J U O X included), 22 = gap; :data:`VOCAB_SIZE` = 23;
- padding is always on the right and encodes as zeros.

Validation of letters belongs to :mod:`core.io`; the encoders here are total functions that map
anything unknown to "unknown" (token 21, an all-zero one-hot row, the BLOSUM62 X row).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

AA20 = "ACDEFGHIKLMNPQRSTVWY"
NONSTANDARD = "BZJUOX"
GAP = "-"
ALPHABET = AA20 + NONSTANDARD

PAD_TOKEN = 0
UNK_TOKEN = 21
GAP_TOKEN = 22
VOCAB_SIZE = 23

_GAP_CHARS = "-."


def _as_list(sequences: str | Iterable[str]) -> list[str]:
    # A bare string is one sequence, not an iterable of one-letter sequences.
    return [sequences] if isinstance(sequences, str) else [str(s) for s in sequences]


def _ascii_codes(seq: str) -> np.ndarray:
    # One byte per character: non-ASCII characters become '?' (unknown), so positions stay put.
    return np.frombuffer(seq.encode("ascii", errors="replace"), dtype=np.uint8)


def alignment_codes(rows: Sequence[str]) -> np.ndarray:
    """(N, W) ASCII codes of aligned rows of equal width (non-ASCII becomes '?')."""
    rows = list(rows)
    if not rows:
        return np.zeros((0, 0), dtype=np.uint8)
    if len({len(r) for r in rows}) != 1:
        raise ValueError("aligned rows must all have the same length")
    return _ascii_codes("".join(rows)).reshape(len(rows), -1)


def gap_mask(rows: Sequence[str]) -> np.ndarray:
    """(N, W) True where an aligned row has a gap ('-' or '.')."""
    codes = alignment_codes(rows)
    return np.isin(codes, np.frombuffer(_GAP_CHARS.encode(), dtype=np.uint8))


def _build_token_lut() -> np.ndarray:
    lut = np.full(256, UNK_TOKEN, dtype=np.int64)
    for i, aa in enumerate(AA20, start=1):
        lut[ord(aa)] = lut[ord(aa.lower())] = i
    for gap in _GAP_CHARS:
        lut[ord(gap)] = GAP_TOKEN
    return lut


_TOKEN_LUT = _build_token_lut()
_TOKEN_LETTERS = np.array(["", *AA20, "X", GAP])


def tokenize(sequences: str | Iterable[str], *, max_len: int | None = None,
             pad_to: int | None = None) -> np.ndarray:
    """Integer tokens for a batch of sequences, right-padded with 0.

    Parameters
    ----------
    sequences : str or iterable of str
        One sequence or several (N). Case is ignored.
    max_len : int, optional
        Truncate every sequence to at most this many characters first.
    pad_to : int, optional
        Width of the output. Must be at least the longest (truncated) sequence; default: that
        longest length.

    Returns
    -------
    np.ndarray of int64, shape (N, L)
        0 = padding, 1..20 = ``AA20``, 21 = X / other, 22 = gap (``'-'`` or ``'.'``).
    """
    seqs = _as_list(sequences)
    if max_len is not None:
        if max_len < 0:
            raise ValueError(f"max_len must be >= 0, got {max_len}")
        seqs = [s[:max_len] for s in seqs]
    longest = max((len(s) for s in seqs), default=0)
    if pad_to is not None and pad_to < longest:
        raise ValueError(f"pad_to={pad_to} is shorter than the longest sequence ({longest}); "
                         "pass max_len to truncate")
    out = np.zeros((len(seqs), longest if pad_to is None else pad_to), dtype=np.int64)
    for i, seq in enumerate(seqs):
        out[i, : len(seq)] = _TOKEN_LUT[_ascii_codes(seq)]
    return out


def detokenize(tokens: np.ndarray) -> list[str]:
    """Inverse of :func:`tokenize` up to case and unknown letters (21 -> ``'X'``, 22 -> ``'-'``).

    Parameters
    ----------
    tokens : np.ndarray of int, shape (N, L) or (L,)

    Returns
    -------
    list of str
        One string per row, padding (0) dropped.
    """
    arr = np.atleast_2d(np.asarray(tokens, dtype=np.int64))
    if arr.size and (arr.min() < 0 or arr.max() >= VOCAB_SIZE):
        raise ValueError(f"tokens must lie in [0, {VOCAB_SIZE})")
    return ["".join(_TOKEN_LETTERS[row[row > 0]]) for row in arr]


def _index_matrix(seqs: list[str], lut: np.ndarray, length: int | None) -> np.ndarray:
    """(N, L) int matrix of ``lut`` indices; -1 marks padding and characters with no index."""
    longest = max((len(s) for s in seqs), default=0)
    if length is not None and length < longest:
        raise ValueError(f"length={length} is shorter than the longest sequence ({longest})")
    out = np.full((len(seqs), longest if length is None else length), -1, dtype=np.int64)
    for i, seq in enumerate(seqs):
        out[i, : len(seq)] = lut[_ascii_codes(seq)]
    return out


def one_hot(sequences: str | Iterable[str], *, alphabet: str = AA20 + GAP,
            length: int | None = None) -> np.ndarray:
    """One-hot encoding of aligned or equal-length sequences.

    Parameters
    ----------
    sequences : str or iterable of str
        N sequences; shorter ones are right-padded with all-zero rows.
    alphabet : str
        The A letters, one channel each (default the 20 amino acids then ``'-'``). Lower case
        input is upper-cased; ``'.'`` counts as ``'-'`` when the alphabet has a gap. Letters not
        in the alphabet (e.g. X with the default) encode as an all-zero row.
    length : int, optional
        Output length L (at least the longest sequence); default: the longest length.

    Returns
    -------
    np.ndarray of float32, shape (N, L, A)
    """
    if len(set(alphabet)) != len(alphabet) or not alphabet:
        raise ValueError(f"alphabet must be non-empty without repeats, got {alphabet!r}")
    if not alphabet.isascii():
        raise ValueError("alphabet must be ASCII")
    lut = np.full(256, -1, dtype=np.int64)
    for i, ch in enumerate(alphabet):
        lut[ord(ch)] = i
        if ch.isalpha():
            lut[ord(ch.lower())] = i
    if GAP in alphabet and "." not in alphabet:
        lut[ord(".")] = alphabet.index(GAP)
    idx = _index_matrix(_as_list(sequences), lut, length)  # (N, L)
    out = np.zeros((*idx.shape, len(alphabet)), dtype=np.float32)  # (N, L, A)
    rows, cols = np.nonzero(idx >= 0)
    out[rows, cols, idx[rows, cols]] = 1.0
    return out


@lru_cache(maxsize=1)
def _blosum62_cached() -> pd.DataFrame:
    from Bio.Align import substitution_matrices  # import here: keeps `import core` cheap

    matrix = substitution_matrices.load("BLOSUM62")
    letters = list(matrix.alphabet)
    return pd.DataFrame(np.asarray(matrix).astype(np.int64), index=letters, columns=letters)


def blosum62() -> pd.DataFrame:
    """The BLOSUM62 matrix as an int64 DataFrame indexed by letter (rows and columns).

    Letters are Biopython's ``ARNDCQEGHILKMFPSTWYVBZX*``. The matrix is loaded once; each call
    returns a copy, so callers may modify it.
    """
    return _blosum62_cached().copy()


def blosum62_score(a: str, b: str) -> int:
    """BLOSUM62 score of two residues (case-insensitive); ValueError for letters it lacks."""
    table = _blosum62_cached()
    a, b = a.upper(), b.upper()
    for letter in (a, b):
        if letter not in table.index:
            raise ValueError(f"BLOSUM62 has no entry for {letter!r} "
                             f"(it covers {''.join(table.index)})")
    return int(table.at[a, b])


@lru_cache(maxsize=1)
def _blosum_rows() -> tuple[np.ndarray, np.ndarray]:
    """(K + 1, 20) BLOSUM rows over AA20 (last row zeros) and a byte -> row lookup table."""
    table = _blosum62_cached()
    rows = table.loc[:, list(AA20)].to_numpy(dtype=np.float32)
    rows = np.vstack([rows, np.zeros((1, 20), dtype=np.float32)])
    zero = len(rows) - 1
    lut = np.full(256, table.index.get_loc("X"), dtype=np.int64)  # unknown -> the X row
    for i, letter in enumerate(table.index):
        if letter.isalpha():
            lut[ord(letter)] = lut[ord(letter.lower())] = i
    for ch in _GAP_CHARS + "*":
        lut[ord(ch)] = zero
    return rows, lut


def blosum_profile(sequences: str | Iterable[str], *, length: int | None = None) -> np.ndarray:
    """Encode each residue by its BLOSUM62 row over :data:`AA20`.

    Parameters
    ----------
    sequences : str or iterable of str
        N sequences (aligned or not); shorter ones are right-padded.
    length : int, optional
        Output length L (at least the longest sequence); default: the longest length.

    Returns
    -------
    np.ndarray of float32, shape (N, L, 20)
        Raw BLOSUM62 scores (not scaled). B, Z and X use their own rows; J, U, O and other
        unknown characters use the X row; gaps (``'-'``, ``'.'``), ``'*'`` and padding are zeros.
    """
    rows, lut = _blosum_rows()
    idx = _index_matrix(_as_list(sequences), lut, length)  # (N, L), -1 = padding
    idx[idx < 0] = len(rows) - 1
    return rows[idx]
