"""The exceptions meshcharts raises.

Every error the library raises is a :class:`MeshchartsError`::

    MeshchartsError
    ├── UserError                 bad input: one line for the user, exit code 2
    │   ├── ProfileError          unknown profile, extends cycle, broken profile file
    │   ├── ValuesError           malformed --set, value of the wrong shape
    │   ├── VersionError          a version that is not strict SemVer 2
    │   ├── NameError_            a name that is not a DNS-1123 label
    │   ├── HelmNotFoundError     no helm binary where one is needed
    │   ├── LintError             a profile has lint errors that were not allowed
    │   └── CollisionError        two control planes cannot run side by side
    └── TemplateError             a generator template is broken (a bug in meshcharts)

The CLI prints a :class:`UserError` as one line and exits 2; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

__all__ = [
    "CollisionError",
    "HelmNotFoundError",
    "InvalidNameError",
    "LintError",
    "MeshchartsError",
    "ProfileError",
    "TemplateError",
    "UserError",
    "ValuesError",
    "VersionError",
]


class MeshchartsError(Exception):
    """Base class of every error meshcharts raises."""


class UserError(MeshchartsError):
    """An error in what the user gave: shown as one line, never as a traceback.

    Attributes:
        subject: the input at fault (a profile name, a ``--set`` argument, a file).
        problem: what is wrong with it.
    """

    def __init__(self, subject: str, problem: str) -> None:
        super().__init__(f"{subject}: {problem}")
        self.subject = subject
        self.problem = problem


class ProfileError(UserError):
    """A profile cannot be found, loaded or resolved."""


class ValuesError(UserError):
    """A value or a ``--set`` argument is malformed or has the wrong shape."""


class VersionError(UserError):
    """A chart version is not strict SemVer 2."""


class InvalidNameError(UserError):
    """A name is not a DNS-1123 label."""


class HelmNotFoundError(UserError):
    """No helm binary was found where one is needed."""


class LintError(UserError):
    """A profile has lint errors that the build was not told to allow."""


class CollisionError(UserError):
    """A revision's control plane would collide with the stable one."""


class TemplateError(MeshchartsError):
    """A generator template failed to render: a bug in meshcharts, not in the input."""
