"""The append-only, hash-chained audit log: every unmasked read and every change."""
