"""The bridge from the shapes (pydantic v2 models) to pydantic v1's behaviour and error items (§4.4).

A shape is a `Shape` subclass whose fields are annotated with `Coerced(...)`: one object that
says how a JSON value is converted (a function of `coercions`), whether null means "use the
default", and how the field reads in the OpenAPI document. The same class therefore validates,
reports and documents.

`validate` runs a shape and turns pydantic v2's errors into pydantic v1's `{loc, msg, type}`
items, in v1's order (fields in declaration order, nested objects where they are declared). The
coercions raise their v1 message and type directly; the few errors pydantic itself raises
(missing field, not an object, not a list) are mapped by `V1_ERRORS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, PydanticUseDefault, core_schema

from common.errors import RequestValidationError, validation_item
from events.decoding.payloads.coercions import Invalid

Loc = list[Any]

NONE_NOT_ALLOWED = ("none is not an allowed value", "type_error.none.not_allowed")

# pydantic v2 error type → pydantic v1 (msg, type); the coercions' own errors carry v1's pair.
V1_ERRORS: dict[str, tuple[str, str]] = {
    "missing": ("field required", "value_error.missing"),
    "model_type": ("value is not a valid dict", "type_error.dict"),
    "model_attributes_type": ("value is not a valid dict", "type_error.dict"),
    "dict_type": ("value is not a valid dict", "type_error.dict"),
    "list_type": ("value is not a valid list", "type_error.list"),
}


def _openapi_30(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The model's JSON schema as OpenAPI 3.0 reads it: no titles, `nullable` instead of a null type."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
        variants = prop.get("anyOf", [])
        if len(variants) == 2 and {"type": "null"} in variants:
            (other,) = [variant for variant in variants if variant != {"type": "null"}]
            del prop["anyOf"]
            prop.update({"allOf": [other], "nullable": True} if "$ref" in other else {**other, "nullable": True})


class Shape(BaseModel):
    """A JSON object: attributes in snake_case, keys in camelCase; unknown keys are ignored (§4.1)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        extra="ignore",
        validate_by_name=False,
        validate_by_alias=True,
        json_schema_extra=_openapi_30,
    )


@dataclass(frozen=True)
class Coerced:
    """Field metadata: `convert` (raising `Invalid`) for a present, non-null value.

    Null is "none is not an allowed value" for a required field (one without a default) and the
    field's default otherwise (`nullable=True`), as pydantic v1 treated `Optional` fields.
    `strict_null=True` leaves null to `convert` (request bodies: null is a wrong type there).
    """

    convert: Callable[[object], Any]
    json_schema: dict[str, Any] = field(default_factory=dict)
    nullable: bool = False
    strict_null: bool = False

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(self.validate)

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {**self.json_schema, "nullable": True} if self.nullable else dict(self.json_schema)

    def validate(self, value: object) -> Any:
        if value is None and not self.strict_null:
            if self.nullable:
                raise PydanticUseDefault()
            raise PydanticCustomError(NONE_NOT_ALLOWED[1], NONE_NOT_ALLOWED[0])
        try:
            return self.convert(value)
        except Invalid as problem:
            raise PydanticCustomError(problem.type, problem.msg) from None


def _not_null(value: object) -> object:
    if value is None:
        raise PydanticCustomError(NONE_NOT_ALLOWED[1], NONE_NOT_ALLOWED[0])
    return value


# For a required nested object or list whose null is "none is not an allowed value" (pydantic v1).
NotNull = BeforeValidator(_not_null)

ShapeT = TypeVar("ShapeT", bound=Shape)


def v1_items(error: ValidationError, loc_prefix: Sequence[Any]) -> list[dict[str, Any]]:
    """pydantic v2's errors as pydantic v1's items, `loc` prefixed."""
    items = []
    for problem in error.errors(include_url=False, include_context=False, include_input=False):
        msg, type_ = V1_ERRORS.get(problem["type"], (problem["msg"], problem["type"]))
        items.append(validation_item([*loc_prefix, *problem["loc"]], msg, type_))
    return items


def validate(shape: type[ShapeT], value: object, *, loc_prefix: Sequence[Any]) -> ShapeT:
    """`value` as a `shape`; else 422 (`RequestValidationError`) with every problem, v1-style."""
    try:
        return shape.model_validate(value)
    except ValidationError as error:
        raise RequestValidationError(v1_items(error, loc_prefix)) from None
