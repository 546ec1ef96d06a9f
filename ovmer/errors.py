"""Exception types shared across stages."""


class OvmerError(Exception):
    """A user-facing error: the message names the file or sample and what is wrong."""


class AssetError(OvmerError):
    """An asset is missing, corrupt, or could not be fetched or installed."""


class UntrustedPickleError(OvmerError):
    """Refused to unpickle a file whose checksum is not in the manifest."""


class LabelFormatError(OvmerError):
    """A label list could not be read (wrong type, not text)."""


class SettingError(OvmerError, ValueError):
    """An unknown setting name (a ValueError too, as ``Setting.parse`` always raised)."""
