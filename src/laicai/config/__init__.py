"""Typed configuration: one YAML file for settings, environment variables for secrets."""

from laicai.config.loader import DEFAULT_CONFIG_PATH, load_config, validate_config
from laicai.config.schema import Settings
from laicai.config.secrets import SECRET_ENV_VARS, Secrets

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "SECRET_ENV_VARS",
    "Secrets",
    "Settings",
    "load_config",
    "validate_config",
]
