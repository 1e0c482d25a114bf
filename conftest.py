"""Repository root: the cutover plugin is loaded through its pytest11 entry point once the
package is installed (``pip install -e .``); nothing else is needed here. Scenario runs pass
``--plan``; the harness's own tests live in ``tests/``."""
