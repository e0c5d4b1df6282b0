"""Guanxi (关系): an open-source CRM — operational, collaborative and analytical on one data model."""

__version__ = "0.1.0"
