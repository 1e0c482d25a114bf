"""How every ``cutover`` command reports a user's mistake: one line on stderr, exit code 2.

A bad plan, an unreachable host or a missing file is something the user fixes, so it gets a
sentence naming what to fix, never a traceback (tracebacks are for our bugs).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, TypeVar

import click

from harness.errors import EXIT_USAGE, HarnessError

F = TypeVar("F", bound=Callable[..., Any])


def say_error(message: str) -> None:
    """Print ``cutover: error: MESSAGE`` on stderr."""
    click.echo(f"cutover: error: {message}", err=True)


def fail(message: str) -> NoReturn:
    """Print ``cutover: error: MESSAGE`` and exit 2."""
    say_error(message)
    sys.exit(EXIT_USAGE)


def user_errors(func: F) -> F:
    """Decorate a click command so that a :class:`HarnessError` becomes :func:`fail`."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HarnessError as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]
