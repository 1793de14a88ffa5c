"""How a run of a job ended, or why a slot did not run: one name each.

The run log stores a status as its plain text value; ``Status(text)`` reads
it back. Nothing else in the package spells a status out.
"""

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    SUCCESS = "success"
    WARNING = "warning"  # ran, with something to look at
    FAILURE = "failure"  # raised: its changes were rolled back
    ABANDONED = "abandoned"  # its lease expired: its process died
    MISSED = "missed"  # a ledger entry: slots more than the grace late
    SKIPPED = "skipped"  # a ledger entry: slots that did not run

    @property
    def ran(self):
        """A run happened (the others are entries of the slot ledger)."""
        return self not in LEDGER

    @property
    def succeeded(self):
        return self in SUCCEEDED

    @property
    def failed(self):
        return self in FAILED

    @property
    def code(self):
        """One letter, for the strip of recent runs kept in the job state."""
        return _CODES[self]

    @classmethod
    def from_code(cls, code):
        return _BY_CODE.get(code, cls.FAILURE)


SUCCEEDED = frozenset((Status.SUCCESS, Status.WARNING))
FAILED = frozenset((Status.FAILURE, Status.ABANDONED))
LEDGER = frozenset((Status.MISSED, Status.SKIPPED))
_CODES = {
    Status.SUCCESS: "s",
    Status.WARNING: "w",
    Status.FAILURE: "f",
    Status.ABANDONED: "a",
    Status.MISSED: "m",
    Status.SKIPPED: "k",
}
_BY_CODE = {code: status for status, code in _CODES.items()}


@dataclass(frozen=True)
class RunResult:
    """What a runner may return: a status (success or warning) and a message."""

    status: Status = Status.SUCCESS
    message: str = ""

    def __post_init__(self):
        if self.status not in SUCCEEDED:
            raise ValueError(
                f"RunResult status must be 'success' or 'warning', not {self.status!r}"
            )
        object.__setattr__(self, "status", Status(self.status))
