"""Pure-Python trust core: canonical JSON, signatures, Merkle trees. Imports no Django."""
