"""The run config's sections as strict pydantic models.

:mod:`radiopipe.config` assembles them into the whole run's config, loads and validates it, and
re-exports every name defined here: import them from there.
"""
