"""Settings: every role's section composed into one HostConfig, loaded from layered group_vars.

The roles declare their own sections (``roles/<role>/settings.py``) and know nothing of this
package; this package composes them, checks what spans sections and names the file, the key and
the reason of every bad value.
"""

from sandbox_host.config import layers
from sandbox_host.config.layers import GROUP_VARS_ENV, ConfigError, group_vars_dirs, load, load_or_exit, validate_all

__all__ = ["GROUP_VARS_ENV", "ConfigError", "group_vars_dirs", "load", "load_or_exit", "validate_all"]
