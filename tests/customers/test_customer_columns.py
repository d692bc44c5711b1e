"""The customer's text columns are made from its field table, as long as each input allows."""

from typing import Annotated

import pytest
from pydantic import StringConstraints

from boxoffice.server.customers.inputs import (
    EmailChange,
    HouseNr,
    OptionalText,
    Phone,
    Salutation,
    Zip,
    max_length,
)
from boxoffice.server.customers.resources import USER
from boxoffice.server.customers.tables import customers


@pytest.mark.parametrize(
    ("input_type", "length"),
    [
        (EmailChange, 255),
        (OptionalText, 255),
        (Salutation, 1),
        (HouseNr, 20),
        (Zip, 10),
        (Phone, 40),
    ],
)
def test_max_length_reads_the_input_types_constraint(input_type: object, length: int) -> None:
    assert max_length(input_type) == length


@pytest.mark.parametrize(
    "input_type",
    [int, str, Annotated[str, StringConstraints(min_length=2)], Annotated[str, "x"] | None],
)
def test_a_type_without_a_max_length_is_refused(input_type: object) -> None:
    with pytest.raises(TypeError):
        max_length(input_type)


def test_each_text_field_has_its_column_as_long_as_its_input_allows() -> None:
    for field in USER.fields:
        if field.kind.value == "text":
            column = customers.c[field.column or ""]
            assert column.type.length == max_length(field.writable)  # type: ignore[attr-defined]
            assert column.nullable
    assert customers.c.email_key.type.length == customers.c.email.type.length  # type: ignore[attr-defined]
