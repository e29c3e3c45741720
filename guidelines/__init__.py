"""Guidelines, versions, clauses, adoptions; projects' keys, proofs and attestations."""
