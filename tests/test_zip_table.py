"""helpline.zip_table: the ZIP code table in the repository says what the ``zipcodes``
package says, for every ZIP code it knows, and nothing for one it does not."""
from __future__ import annotations

import io

import pytest
import zipcodes

from helpline import zip_table
from helpline.treatment_search import locate


@pytest.fixture(scope="module")
def everything():
    return zipcodes.list_all()


def test_the_table_in_the_repository_is_the_one_the_package_makes_today():
    made = io.StringIO()
    zip_table.write(made)
    assert made.getvalue().encode("ascii") == zip_table.TABLE.read_bytes()


def test_every_zip_code_is_found_with_its_kind_state_and_place(everything):
    for z in everything:
        found = zip_table.find(z["zip_code"])
        assert found == (z["zip_code"], zip_table.KINDS[z["zip_code_type"]], z["state"], z["lat"], z["long"])


def test_locate_answers_as_it_did_from_the_package(everything):
    for z in everything[::97]:
        problem, place = locate(z["zip_code"])
        if z["zip_code_type"] == "PO BOX":
            assert (problem, place) == ("search.zip_po_box", None)
        else:
            assert problem is None
            assert place == (float(z["lat"]), float(z["long"]), z["state"])


@pytest.mark.parametrize("unknown", ["00000", "00499", "99999"])
def test_a_zip_code_nobody_has_is_none(unknown):
    assert not zipcodes.is_real(unknown)
    assert zip_table.find(unknown) is None
    assert locate(unknown) == ("search.zip_unknown", None)


@pytest.mark.parametrize("odd", ["1234", "123456", "abcde", "", "ÿÿÿÿÿ", "10001\n"])
def test_anything_else_is_none(odd):
    assert zip_table.find(odd) is None


def test_first_and_last_lines_are_found():
    table = zip_table.TABLE.read_text(encoding="ascii").splitlines()
    assert zip_table.find(table[0][:5]) is not None and zip_table.find(table[-1][:5]) is not None
