"""Contracts of produktivitas: code lists, field specs, dataset catalogue, output schemas.

Nothing here imports from ``tasks`` or ``flows``; everything else derives from these definitions.
"""
