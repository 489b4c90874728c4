"""The pages every German authority must publish (Impressum, privacy notice, accessibility
statement, Leichte Sprache, sign language), built from fields with district defaults, and
the accessibility feedback they collect."""
