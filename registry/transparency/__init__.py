"""The public append-only Merkle log (RFC 9162) and its signed checkpoints (C2SP)."""
