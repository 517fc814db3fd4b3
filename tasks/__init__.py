"""The work of produktivitas: plain functions with thin Prefect ``@task`` wrappers.

Tasks take what they need as arguments and return results; only ``flows/`` reads settings.
"""
