"""The one exception configuration loading raises, naming the offending dotted key."""

from __future__ import annotations


class ConfigError(ValueError):
    """An invalid configuration value; the message starts with its dotted key (``http.addr: ...``)."""

    def __init__(self, key: str, message: str, source: str = "") -> None:
        text = f"{key}: {message}" if key else message
        if source:
            text = f"{text} (from {source})"
        super().__init__(text)
        self.key = key
        self.source = source
