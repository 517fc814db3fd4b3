"""Prefect flows that compose the tasks, the settings, deployments and the CLI.

Only this package reads settings and the environment.
"""
