"""Onboarding: tenants as code. Reading and validating tenant folders (files), importing
them idempotently and creating towns from the district's template (sync), and exporting a
tenant back into that format (export). It sits above every domain it fills."""
