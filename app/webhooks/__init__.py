"""Webhooks for the towns' other systems: signed appointment events, delivered through an
outbox written in the event's own transaction and sent by the same worker and sweeper as mail."""
