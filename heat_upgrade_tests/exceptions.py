"""Errors that reach a user as one line, never as a traceback."""


class UpgradeTestError(Exception):
    """Base of every error the project reports to its user as one line.

    The command line catches these, prints ``str(exc)`` and exits
    non-zero; anything else is a bug and keeps its traceback.
    """

    exit_code = 2


class ConfigError(UpgradeTestError):
    """Bad options, an unknown series, a missing clouds.yaml entry."""


class CloudUnreachable(UpgradeTestError):
    """The cloud named by the configuration does not answer."""


class CredentialsRefused(CloudUnreachable):
    """The identity service answered and refused the credentials."""


class StateError(UpgradeTestError):
    """A state file is missing, corrupt or of an unknown schema."""


class MiniCloudError(UpgradeTestError):
    """The local mini-cloud could not be built, started or stopped."""


class PortBusy(MiniCloudError):
    """A port the mini-cloud needs is taken by another process."""


class IntegrityError(UpgradeTestError):
    """A release, a file or a command the integrity checks need is bad.

    Defined here rather than in the integrity package because Heat's
    database module (``heatdb``, which that package uses) raises it too,
    for a URL it cannot read or a database it cannot reach; the integrity
    checks report it as a failed finding.
    """


class TimeoutExpired(UpgradeTestError):
    """A bounded wait ran out; the message says what it waited for."""


class CheckFailed(AssertionError):
    """What a check guards is broken; the message names the check."""


class CheckSkipped(Exception):
    """A check cannot run on this cloud; the message is the reason."""
