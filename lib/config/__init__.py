"""Experiment configuration: reference defaults plus validated yaml files (see ``loader``)."""
from lib.config.loader import (ConfigError, config_from_dict, dump_config, load_config, parse_overrides,
                               resolve_config_path, to_plain)

__all__ = ["ConfigError", "config_from_dict", "dump_config", "load_config", "parse_overrides",
           "resolve_config_path", "to_plain"]
