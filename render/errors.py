"""Errors of :mod:`render`."""

from __future__ import annotations


class RenderError(Exception):
    """Base class of the errors raised while drawing or printing a plan."""


class MapError(RenderError):
    """A plan map cannot be drawn or written."""
