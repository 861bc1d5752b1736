"""Pulumi glue: dynamic resource providers and pydantic models of their inputs."""
