"""Settings split by environment: base (shared), dev, test, production.

Every value a deployment changes comes from a ``GUANXI_*`` environment variable; see
docs/configuration.md.
"""
