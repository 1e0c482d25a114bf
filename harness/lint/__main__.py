"""``python -m harness.lint PATH…``: the same as ``cutover lint``."""

from harness.lint.command import lint

if __name__ == "__main__":  # pragma: no cover
    lint(prog_name="cutover lint")
