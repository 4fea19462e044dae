import pytest
from django.db import connection

from common.db import GUARDED_SOURCES
from devtools.testing.guards import source_digest


@pytest.mark.django_db
def test_the_suite_runs_on_postgresql():
    assert connection.vendor == "postgresql"


@pytest.mark.parametrize("dotted", sorted(GUARDED_SOURCES))
def test_the_orm_code_that_insert_statement_mirrors_is_unchanged(dotted):
    """A failure means the pinned Django changed how the ORM prepares inserted values: read
    `common.db.insert_statement` again against the new source, then update its digest."""
    assert source_digest(dotted) == GUARDED_SOURCES[dotted], dotted
