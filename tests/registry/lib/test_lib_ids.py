"""Public ids: shape, alphabet and randomness."""

from __future__ import annotations

from collections import Counter

from registry.lib.ids import _ALPHABET, _LENGTH, looks_like_public_id, new_public_id


def test_a_new_id_has_the_prefix_and_the_shape_the_api_checks() -> None:
    made = new_public_id("rcp")
    assert made.startswith("rcp_")
    assert len(made) == 4 + _LENGTH
    assert looks_like_public_id(made, "rcp")
    assert not looks_like_public_id(made, "org")


def test_ids_do_not_repeat_and_use_every_symbol_evenly() -> None:
    made = [new_public_id("sub") for _ in range(4000)]
    assert len(set(made)) == len(made)
    counts = Counter(symbol for public_id in made for symbol in public_id[4:])
    # Every one of the 32 symbols, none outside them; 104,000 symbols put ~3,250 on each, and a
    # symbol twice as likely as another (a broken mapping) would fall far outside these bounds.
    assert set(counts) == set(_ALPHABET)
    assert all(2_900 < count < 3_600 for count in counts.values()), counts
