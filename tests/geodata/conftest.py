"""Import set-up for the geodata tests.

* ``geodata_testkit`` (helpers beside this file) must be importable whatever pytest's import
  mode.
* This folder is called ``geodata`` like the package under test. With pytest's default
  ``prepend`` import mode, ``tests/conftest.py`` puts ``tests/`` on ``sys.path``, and then
  ``import geodata`` can resolve to a *namespace* package made of ``tests/geodata`` and the
  real ``geodata/`` (the editable install only adds a path hook), skipping
  ``geodata/__init__.py``. Putting the project root on ``sys.path`` makes the regular package
  win, whatever else is on the path.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parents[1]

for _p in (str(_ROOT), str(_HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)
