"""Plain code shared by the tests: what test modules need at collection time
(constants, parametrize values) and the slow reference implementations. The
tests reach the factories through the fixtures of the ``conftest.py`` files."""
