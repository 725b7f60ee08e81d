"""Alphabets and encodings: tokens, one-hot, BLOSUM62."""
from __future__ import annotations

import string

import numpy as np
import pytest

from core.alphabet import (
    AA20,
    ALPHABET,
    GAP,
    GAP_TOKEN,
    NONSTANDARD,
    PAD_TOKEN,
    UNK_TOKEN,
    VOCAB_SIZE,
    blosum62,
    blosum62_score,
    blosum_profile,
    detokenize,
    one_hot,
    tokenize,
)


def test_constants():
    assert AA20 == "ACDEFGHIKLMNPQRSTVWY"
    assert NONSTANDARD == "BZJUOX" and GAP == "-"
    assert ALPHABET == AA20 + NONSTANDARD
    assert sorted(ALPHABET) == list(string.ascii_uppercase)  # the 26 letters, each once
    assert (PAD_TOKEN, UNK_TOKEN, GAP_TOKEN, VOCAB_SIZE) == (0, 21, 22, 23)


def test_tokenize_values_and_padding():
    tokens = tokenize(["ACY", "a-.", "BXZ", "W"])
    assert tokens.dtype == np.int64 and tokens.shape == (4, 3)
    np.testing.assert_array_equal(tokens[0], [1, 2, 20])
    np.testing.assert_array_equal(tokens[1], [1, 22, 22])  # lower case, '-' and '.' are gaps
    np.testing.assert_array_equal(tokens[2], [21, 21, 21])  # non-standard -> X token
    np.testing.assert_array_equal(tokens[3], [19, 0, 0])  # right padding with 0
    assert tokens.max() < VOCAB_SIZE


def test_tokenize_every_standard_letter():
    np.testing.assert_array_equal(tokenize(AA20)[0], np.arange(1, 21))


def test_tokenize_unknown_characters_keep_positions():
    np.testing.assert_array_equal(tokenize("AéC1*")[0], [1, 21, 2, 21, 21])


def test_tokenize_max_len_and_pad_to():
    assert tokenize(["ACDEF", "AC"], max_len=3).shape == (2, 3)
    padded = tokenize(["AC"], pad_to=5)
    np.testing.assert_array_equal(padded, [[1, 2, 0, 0, 0]])
    assert tokenize(["ACDEF"], max_len=2, pad_to=4).shape == (1, 4)
    with pytest.raises(ValueError, match="pad_to"):
        tokenize(["ACDEF"], pad_to=3)
    with pytest.raises(ValueError, match="max_len"):
        tokenize(["AC"], max_len=-1)


def test_tokenize_single_string_and_empty():
    assert tokenize("ACD").shape == (1, 3)
    assert tokenize([]).shape == (0, 0)
    assert tokenize(["", ""]).shape == (2, 0)


def test_detokenize_round_trip():
    seqs = ["ACDEFGHIK", "LMN-PQ", "RSTVWYX"]
    assert detokenize(tokenize(seqs)) == seqs
    assert detokenize(tokenize("acb")) == ["ACX"]
    with pytest.raises(ValueError):
        detokenize(np.array([[1, 23]]))


def test_one_hot_default_alphabet():
    x = one_hot(["AC-", "Y.", "AX"])
    assert x.dtype == np.float32 and x.shape == (3, 3, 21)
    assert x[0, 0, AA20.index("A")] == 1 and x[0, 1, AA20.index("C")] == 1
    assert x[0, 2, 20] == 1  # gap channel
    assert x[1, 1, 20] == 1  # '.' counts as a gap
    assert x[1, 2].sum() == 0  # padding
    assert x[2, 1].sum() == 0  # X is not in the default alphabet
    np.testing.assert_array_equal(x.sum(-1)[0], [1, 1, 1])


def test_one_hot_custom_alphabet_and_length():
    x = one_hot("acgt", alphabet="ACGT", length=6)
    assert x.shape == (1, 6, 4)
    np.testing.assert_array_equal(x[0, :4].argmax(-1), [0, 1, 2, 3])
    assert x[0, 4:].sum() == 0
    with pytest.raises(ValueError, match="length"):
        one_hot(["ACGT"], length=2)
    with pytest.raises(ValueError, match="repeats"):
        one_hot(["A"], alphabet="AA")


def test_blosum62_frame():
    b = blosum62()
    assert b.shape == (24, 24) and list(b.index) == list(b.columns)
    assert set(AA20) <= set(b.index)
    assert b.loc["A", "A"] == 4 and b.loc["W", "W"] == 11 and b.loc["W", "A"] == -3
    np.testing.assert_array_equal(b.to_numpy(), b.to_numpy().T)
    b.loc["A", "A"] = 99  # callers get a copy
    assert blosum62().loc["A", "A"] == 4


def test_blosum62_score():
    assert blosum62_score("w", "W") == 11
    assert blosum62_score("A", "R") == -1
    with pytest.raises(ValueError, match="'J'"):
        blosum62_score("J", "A")


def test_blosum_profile():
    b = blosum62()
    p = blosum_profile(["AW-", "J"], length=4)
    assert p.dtype == np.float32 and p.shape == (2, 4, 20)
    np.testing.assert_array_equal(p[0, 0], b.loc["A", list(AA20)].to_numpy())
    np.testing.assert_array_equal(p[0, 1], b.loc["W", list(AA20)].to_numpy())
    assert not p[0, 2].any() and not p[0, 3].any()  # gap and padding
    np.testing.assert_array_equal(p[1, 0], b.loc["X", list(AA20)].to_numpy())  # J -> X row
    assert blosum_profile(["ac"]).shape == (1, 2, 20)
