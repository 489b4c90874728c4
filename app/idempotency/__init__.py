"""Idempotent writes: an answer remembered under the client's Idempotency-Key."""
