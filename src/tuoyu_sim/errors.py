"""Errors a user can cause and fix.

Every error the command line reports without a traceback derives from
:class:`UserError`. Its message is complete: it names the file, the key path,
the value and what is allowed, one problem per line.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input (file, option, target), not a bug."""

    exit_code = 1

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class ScenarioError(UserError):
    """A scenario file (or a table it references) is missing or invalid."""


class InfeasibleError(UserError):
    """Targets that cannot all be met, with the numbers that show why."""


class SolverError(UserError):
    """A solver that is not installed or that failed."""
