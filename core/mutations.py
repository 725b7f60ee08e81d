"""Substitution notation: parse, check, apply, diff and format point mutations.

Three notations are read (and written by :func:`format_mutations`):

- compact: ``W122A``, several joined by ``/`` (``G162S/E166W``), ``,``, ``;``, ``+`` or spaces;
- ProteinGym: ``A1P:D2N``;
- HGVS protein: ``p.Trp122Ala``, ``p.(Trp122Ala)``, ``p.[Trp122Ala;Asp2Asn]`` (one-letter
  ``p.W122A`` too).

``WT``, ``wild-type``, ``parent``, ``p.=`` and the empty string mean "no mutation". Positions
are 1-based positions in the parent string as given. Only substitutions are supported:
insertions, deletions and stops raise ``ValueError`` with the reason.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.alphabet import ALPHABET
from core.config import check_choice

THREE_TO_ONE = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E",
    "Gly": "G", "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F",
    "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V",
    "Asx": "B", "Glx": "Z", "Xle": "J", "Sec": "U", "Pyl": "O", "Xaa": "X",
}
ONE_TO_THREE = {one: three for three, one in THREE_TO_ONE.items()}
STYLES = ("compact", "proteingym", "hgvs")

_NO_MUTATION = {"", "wt", "wildtype", "wild-type", "wild_type", "parent", "_wt", "p.=", "p.(=)"}
_ONE_LETTER = re.compile(r"([A-Za-z])(\d+)([A-Za-z])")
_THREE_LETTER = re.compile(r"([A-Z][a-z]{2})(\d+)([A-Z][a-z]{2}|=)")
_SEPARATORS = re.compile(r"[:/,;+\s]+")
_EXAMPLES = "expected e.g. 'W122A', 'A1P:D2N' or 'p.Trp122Ala'"


@dataclass(frozen=True, order=True)
class Mutation:
    """One substitution: ``position`` (1-based), wild-type letter ``wt``, mutant letter ``mt``.

    Orders by position; ``str(m)`` is the compact form ``W122A``.
    """

    position: int
    wt: str
    mt: str

    def __post_init__(self) -> None:
        if isinstance(self.position, bool) or not isinstance(self.position, int):
            try:  # NumPy integers and integral floats from tables
                value = int(self.position)
            except (TypeError, ValueError):
                raise ValueError(f"position must be an integer, got {self.position!r}") from None
            if value != self.position:
                raise ValueError(f"position must be an integer, got {self.position!r}")
            object.__setattr__(self, "position", value)
        if self.position < 1:
            raise ValueError(f"position must be >= 1 (1-based), got {self.position}")
        for name in ("wt", "mt"):
            letter = getattr(self, name)
            if not (isinstance(letter, str) and len(letter) == 1 and letter in ALPHABET):
                raise ValueError(f"{name} must be one upper-case amino-acid letter "
                                 f"({ALPHABET}), got {letter!r}")

    def __str__(self) -> str:
        return f"{self.wt}{self.position}{self.mt}"

    def to_hgvs(self) -> str:
        """The HGVS three-letter body, e.g. ``Trp122Ala`` (without ``p.``)."""
        return f"{ONE_TO_THREE[self.wt]}{self.position}{ONE_TO_THREE[self.mt]}"


def _three(code: str, token: str, notation: str) -> str:
    if code in ("Ter", "="):
        what = "stop (nonsense)" if code == "Ter" else "synonymous '='"
        raise ValueError(f"{token!r} in {notation!r}: {what} changes are not supported")
    if code not in THREE_TO_ONE:
        raise ValueError(f"{token!r} in {notation!r}: unknown amino-acid code {code!r}")
    return THREE_TO_ONE[code]


def _parse_token(token: str, notation: str, *, hgvs: bool) -> Mutation:
    token = token.strip().strip("()")
    if hgvs and (m := _THREE_LETTER.fullmatch(token)):
        wt, pos, mt = _three(m[1], token, notation), int(m[2]), _three(m[3], token, notation)
        return Mutation(pos, wt, mt)
    if m := _ONE_LETTER.fullmatch(token):
        return Mutation(int(m[2]), m[1].upper(), m[3].upper())
    hint = ""
    if "*" in token or "ter" in token.lower():
        hint = " (stop codons are not supported)"
    elif re.search(r"del|ins|dup|fs|_", token):
        hint = " (only substitutions are supported, not indels)"
    raise ValueError(f"cannot parse {token!r} in mutation notation {notation!r}: "
                     f"{_EXAMPLES}{hint}")


def check_mutations(mutations: Iterable[Mutation], parent: str | None = None) -> None:
    """Raise ValueError for a position mutated twice or, given ``parent``, a mutation that
    does not fit it (out of range, or a wild-type letter that differs from the parent's)."""
    seen: dict[int, Mutation] = {}
    for mut in mutations:
        if mut.position in seen:
            raise ValueError(f"position {mut.position} is mutated twice "
                             f"({seen[mut.position]} and {mut})")
        seen[mut.position] = mut
        if parent is None:
            continue
        if mut.position > len(parent):
            raise ValueError(f"mutation {mut}: position {mut.position} is out of range for a "
                             f"parent of length {len(parent)}")
        found = parent[mut.position - 1].upper()
        if found != mut.wt:
            raise ValueError(f"mutation {mut}: wild-type mismatch at position {mut.position}: "
                             f"expected {mut.wt}, found {found} in the parent")


def parse_mutations(notation: str, *, parent: str | None = None) -> list[Mutation]:
    """Parse a mutation name into substitutions, sorted by position.

    Parameters
    ----------
    notation : str
        ``"W122A"``, ``"G162S/E166W"``, ``"A1P:D2N"``, ``"p.Trp122Ala"``, ``"p.(Trp122Ala)"``,
        ``"p.[Trp122Ala;Asp2Asn]"``; ``"WT"``, ``"parent"``, ``"p.="`` or ``""`` give ``[]``.
    parent : str, optional
        When given, every position must lie within it and every wild-type letter must match.

    Returns
    -------
    list of Mutation

    Raises
    ------
    ValueError
        Unparseable token, a position mutated twice, out of range, or a wild-type mismatch
        (the message names the position, the expected and the found letter).
    """
    if not isinstance(notation, str):
        raise ValueError(f"mutation notation must be a string, got {notation!r}")
    text = notation.strip()
    if text.lower() in _NO_MUTATION:
        return []
    hgvs = text.startswith("p.")
    body = text[2:].strip() if hgvs else text
    if hgvs:
        if body.startswith("[") and body.endswith("]"):
            body = body[1:-1]
        tokens = [t for t in body.split(";") if t.strip()]
    else:
        tokens = [t for t in _SEPARATORS.split(body) if t]
    if not tokens:
        raise ValueError(f"cannot parse mutation notation {notation!r}: {_EXAMPLES}")
    mutations = [_parse_token(t, notation, hgvs=hgvs) for t in tokens]
    check_mutations(mutations, parent)
    return sorted(mutations)


def apply_mutations(parent: str, mutations: str | Iterable[Mutation]) -> str:
    """The parent with the substitutions applied (notation strings are parsed first).

    Raises ValueError like :func:`parse_mutations` when a mutation does not fit the parent.
    """
    muts = parse_mutations(mutations, parent=parent) if isinstance(mutations, str) \
        else list(mutations)
    check_mutations(muts, parent)
    chars = list(parent)
    for mut in muts:
        chars[mut.position - 1] = mut.mt
    return "".join(chars)


def diff_mutations(sequence: str, parent: str) -> list[Mutation]:
    """Substitutions that turn ``parent`` into ``sequence``, sorted by position.

    Parameters
    ----------
    sequence, parent : str
        Equal-length strings, or two rows of one alignment (``'-'``/``'.'`` gaps). Positions
        count the parent's residues (gaps skipped); columns where both have a gap are ignored.

    Raises
    ------
    ValueError
        Unequal lengths, or a column where only one of the two has a gap (an insertion or a
        deletion, which is not a substitution).
    """
    if len(sequence) != len(parent):
        raise ValueError(f"cannot diff: the sequence has {len(sequence)} characters but the parent "
                         f"has {len(parent)}; diff_mutations needs equal-length (or aligned) "
                         "sequences - align them first")
    out: list[Mutation] = []
    position = 0
    for column, (s, p) in enumerate(zip(sequence.upper(), parent.upper(), strict=True), start=1):
        s_gap, p_gap = s in "-.", p in "-."
        if s_gap and p_gap:
            continue
        if p_gap:
            raise ValueError(f"alignment column {column}: the sequence has {s!r} where the parent "
                             "has a gap (an insertion, not a substitution)")
        position += 1
        if s_gap:
            raise ValueError(f"alignment column {column} (parent position {position}): the "
                             f"sequence has a gap where the parent has {p!r} (a deletion, not a "
                             "substitution)")
        if s != p:
            out.append(Mutation(position, p, s))
    return out


def format_mutations(mutations: Iterable[Mutation], *, style: str = "compact") -> str:
    """Write substitutions in one notation, in the order given.

    ``style``: ``"compact"`` (``W122A/D2N``), ``"proteingym"`` (``W122A:D2N``) or ``"hgvs"``
    (``p.Trp122Ala``, several as ``p.[Trp122Ala;Asp2Asn]``). No mutation gives ``"WT"``
    (``"p.="`` for HGVS).
    """
    muts = list(mutations)
    check_choice("style", style, STYLES)
    if style == "hgvs":
        if not muts:
            return "p.="
        body = ";".join(m.to_hgvs() for m in muts)
        return f"p.{body}" if len(muts) == 1 else f"p.[{body}]"
    if not muts:
        return "WT"
    return ("/" if style == "compact" else ":").join(str(m) for m in muts)
