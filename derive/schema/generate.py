"""The JSON Schemas, made from the declarations the reader reads with: every key of every table and
part kind with its shape (:mod:`derive.exercise.shapes`), the catalogues' names and parameters.

Hand-written rather than made by a schema library (pydantic and the like build one from model
classes): the spec has no such classes, its keys and shapes are the reader's own tables, and
written out here in the keywords of JSON Schema draft 7 that Taplo (VS Code's TOML extensions) checks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from derive.catalog.activations import ACTIVATIONS
from derive.catalog.circuits import NAME as CIRCUIT_NAME
from derive.catalog.optimizers import OPTIMIZERS
from derive.exercise.closed import PATTERN as CLOSED_PATTERN
from derive.exercise.exercises import MAX_EXERCISES
from derive.exercise.fields import LOSS_KEYS, MAX_WIDTH
from derive.exercise.kind import PartKind
from derive.exercise.marks import EXAM_KEYS, LENGTH, MAX_POINTS
from derive.exercise.parts import COMMON, LIST_LIMITS, MAX_PARTS, NETLESS_COMMON
from derive.exercise.reader import (
    _LAYER_KEYS,
    _NAME,
    LAYER_KEYS,
    LOGO_TYPES,
    MAX_LAYERS,
    NETWORK_KEYS,
    NOTATION_KEYS,
    ROOT_KEYS,
    SHEET_KEYS,
)
from derive.exercise.several import _INCLUDED, EXERCISE_KEYS, SHEET_ROOT_KEYS
from derive.exercise.shapes import Shape
from derive.exercise.variation import GOOD_KEYS, MAX_VARIED, RANGE_KEYS, VARIANTS_KEYS
from derive.kinds import KINDS
from derive.render.answers import CSV_COLUMNS, EXERCISE_COLUMN, FORMAT, VERSION
from derive.terms.numbers import _NUMBER
from derive.terms.rounding import POLICIES

Schema = dict[str, Any]
DIALECT = "http://json-schema.org/draft-07/schema#"
NUMBER_PATTERN = f"{_NUMBER.pattern}|{CLOSED_PATTERN}"
"""The reader's own patterns of a number typed as a string: "1/2", "-0.25", "3e-2", or a closed form
such as "sqrt(2)/2" (whose functions, size and value the reader checks)."""
DECAY_RATES = ("beta", "beta1", "beta2", "rho")
"""Hyperparameters below 1 (the reader refuses a decay rate of 1 or more)."""
LENGTH_PATTERN = f"^{LENGTH.pattern}$"
"""A length as the reader takes it ("6cm"; whether it is within bounds, the reader says)."""
ENTRY = r"w *[0-9]+ *\[ *[0-9]+ *, *[0-9]+ *\]|b *[0-9]+( *\[ *[0-9]+ *\])?"
"""A parameter entry as the reader takes it (spaces anywhere): w1[1,2], b2[1], b2 (a shared bias)."""
_KEY = r"[A-Za-z_][A-Za-z0-9_]*(\[[1-9][0-9]*\])*"
VARIED_PATH = rf"^(network\.layers|parts)\[[1-9][0-9]*\]\.{_KEY}(\.{_KEY})*$"
"""A varied given's spec path, as errors name it: network.layers[1].weights, parts[3].x[2]."""


NUMBER = {"type": ["number", "string"], "pattern": NUMBER_PATTERN}
"""An integer, a decimal, or a string "1/2", "0.15", "sqrt(2)/2" (TOML's floats are read exactly as typed)."""
# A number typed as a string ("-1/2") is checked by the reader alone: a pattern cannot compare.
POSITIVE = {**NUMBER, "minimum": 0, "not": {"enum": [0]}}
DECAY = {**NUMBER, "minimum": 0, "maximum": 1, "not": {"enum": [0, 1]}}
DEFINITIONS: dict[str, Schema] = {
    "number": NUMBER,
    "positive": POSITIVE,
    "decay_rate": DECAY,
    "numbers": {"type": "array", "minItems": 1, "maxItems": MAX_WIDTH, "items": {"$ref": "#/definitions/number"}},
}
"""The shapes many keys share, written once (the activations and optimizers join them)."""


def _ref(name: str, doc: str = "") -> Schema:
    """A shared definition; a description beside a $ref would be ignored (draft 7), so it wraps it."""
    ref = {"$ref": f"#/definitions/{name}"}
    return {"description": doc, "allOf": [ref]} if doc else ref


def _number(doc: str = "") -> Schema:
    return _ref("number", doc)


def _positive(doc: str = "", below_one: bool = False) -> Schema:
    return _ref("decay_rate" if below_one else "positive", doc)


def _numbers(doc: str = "", most: int = MAX_WIDTH) -> Schema:
    if most == MAX_WIDTH:
        return _ref("numbers", doc)
    return _doc({"type": "array", "minItems": 1, "maxItems": most, "items": _number()}, doc)


def _doc(schema: Schema, doc: str) -> Schema:
    return {"description": doc, **schema} if doc else schema


def _case_free(suffix: str) -> str:
    """``.pdf`` as a pattern of either case (JSON Schema patterns take no flags)."""
    return r"\." + "".join(f"[{c.lower()}{c.upper()}]" for c in suffix.lstrip("."))


def _activation(shape: Shape) -> Schema:
    """A name, or a table of its name and parameters; a part's activation maps one number (no softmax)."""
    entries = {
        name: entry
        for name, entry in ACTIVATIONS.items()
        if shape.tag == "activation" or not entry.build(**entry.params).vector
    }
    tables = [
        {
            "type": "object",
            "properties": {
                "name": {"enum": [name]},
                **{
                    key: {"type": "string", "description": "a formula in z"} if key in entry.formulas else _number()
                    for key in entry.params
                },
            },
            "required": ["name", *entry.formulas],
            "additionalProperties": False,
        }
        for name, entry in entries.items()
    ]
    named = [name for name, entry in entries.items() if not entry.formulas]  # a formula needs its table
    DEFINITIONS[shape.tag] = {"anyOf": [{"type": "string", "enum": named}, *tables]}
    return _ref(shape.tag, shape.doc)


def _optimizer(shape: Shape) -> Schema:
    """A name, or a table of a name and the hyperparameters it overrides (without a name: the default's)."""

    def hyper(names: Mapping[str, object]) -> Schema:
        return {key: _positive(below_one=key in DECAY_RATES) for key in names}

    tables = [
        {
            "type": "object",
            "properties": {"name": {"enum": [name]}, **hyper(optimizer.hyper)},
            "required": ["name"],
            "additionalProperties": False,
        }
        for name, optimizer in OPTIMIZERS.items()
    ]
    default = {"type": "object", "properties": hyper(OPTIMIZERS[shape.choices[0]].hyper), "additionalProperties": False}
    name = f"optimizer_{shape.choices[0]}"
    DEFINITIONS[name] = {"anyOf": [{"type": "string", "enum": list(OPTIMIZERS)}, *tables, default]}
    return _ref(name, shape.doc)


def value(shape: Shape, most: int | None = None) -> Schema:
    """The schema of one key's value; ``most``: the longest list the key takes, where the reader says."""
    tag, doc = shape.tag, shape.doc
    lists = most or MAX_WIDTH
    if tag == "number":
        return _number(doc)
    if tag == "positive":
        return _positive(doc)
    if tag == "numbers":
        return _numbers(doc, lists)
    if tag == "numbers_or_number":
        return _doc({"anyOf": [_number(), _numbers(most=lists)]}, doc)
    if tag == "matrix":
        return _doc({"type": "array", "minItems": 1, "maxItems": MAX_WIDTH, "items": _numbers()}, doc)
    if tag == "whole":
        return _doc({"type": "integer", "minimum": shape.low, "maximum": shape.high}, doc)
    if tag == "wholes":
        whole = {"type": "integer", "minimum": shape.low, "maximum": shape.high}
        return _doc({"type": "array", "minItems": 1, "maxItems": lists, "items": whole}, doc)
    if tag == "text":
        return _doc({"type": "string"}, doc)
    if tag == "flag":
        return _doc({"type": "boolean"}, doc)
    if tag == "choice":
        return _doc({"type": "string", "enum": list(shape.choices)}, doc)
    if tag == "name":
        return _doc({"type": "string", "pattern": f"^{_NAME.pattern}$"}, doc)
    if tag == "logo":
        suffixes = "|".join(_case_free(suffix) for suffix in LOGO_TYPES)
        return _doc({"type": "string", "pattern": f"({suffixes})$"}, doc)
    if tag in ("activation", "scalar_activation"):
        return _activation(shape)
    if tag == "optimizer":
        return _optimizer(shape)
    if tag == "parameters":
        names = "[Wb] *[0-9]+" + "".join(f"|{extra}" for extra in shape.choices)
        item = {"type": "string", "pattern": f"^({names})$"}
        return _doc({"type": "array", "minItems": 1, "maxItems": lists, "items": item}, doc)
    if tag == "entries":
        item = {"type": "string", "pattern": f"^ *([Wb] *[0-9]+|{ENTRY}) *$"}
        return _doc({"type": "array", "minItems": 1, "maxItems": lists, "items": item}, doc)
    if tag == "groups":
        group = {"type": "array", "minItems": 2, "items": {"type": "string", "pattern": f"^ *({ENTRY}) *$"}}
        return _doc({"type": "array", "minItems": 1, "maxItems": lists, "items": group}, doc)
    if tag == "samples":
        sample = {
            "type": "object",
            "properties": {"x": value(COMMON["x"]), "y": value(COMMON["y"])},
            "required": ["x", "y"],
            "additionalProperties": False,
        }
        return _doc({"type": "array", "minItems": shape.low, "maxItems": shape.high, "items": sample}, doc)
    if tag == "objective":
        return _doc({"type": "string", "pattern": r"^ *(L|yhat( *\[ *[0-9]+ *\])?) *$"}, doc)
    if tag == "bias":
        none = {"type": "string", "enum": ["none"]}
        shared = {
            "type": "object",
            "properties": {"shared": _number("the one bias every unit adds")},
            "required": ["shared"],
            "additionalProperties": False,
        }
        return _doc({"anyOf": [_number(), _numbers(), none, shared]}, doc)
    if tag in ("tensors", "state"):
        tensor = {"anyOf": [_number(), _numbers(), value(Shape("matrix", ""))]}
        tensors = {
            "type": "object",
            "minProperties": shape.low,
            "maxProperties": shape.high,
            "patternProperties": {"^[Wb][1-9][0-9]?$": tensor},
            "additionalProperties": False,
        }
        if tag == "tensors":
            return _doc(tensors, doc)
        states = sorted({kept for optimizer in OPTIMIZERS.values() for kept in optimizer.state})
        return _doc({"type": "object", "propertyNames": {"enum": states}, "additionalProperties": tensors}, doc)
    if tag == "reads":
        source = {"anyOf": [{"type": "string", "enum": ["x"]}, {"type": "integer", "minimum": 0}]}
        return _doc({"type": "array", "minItems": 1, "uniqueItems": True, "items": source}, doc)
    if tag == "values":
        named: Schema = {
            "type": "object",
            "propertyNames": {"pattern": f"^{CIRCUIT_NAME.pattern}$"},
            "additionalProperties": _number(),
            "minProperties": 1,
            "maxProperties": shape.high,
        }
        return _doc(named, doc)
    if tag == "neuron":
        neuron = {
            "type": "object",
            "properties": {
                "w": _numbers("the weights", shape.high or MAX_WIDTH),
                "x": _numbers("the inputs", shape.high or MAX_WIDTH),
                "b": _number("the bias (none: no bias)"),
                "activation": {"type": "string", "enum": list(shape.choices)},
                "index_from": {"type": "integer", "minimum": 0, "maximum": 1},
            },
            "required": ["w", "x"],
            "additionalProperties": False,
        }
        return _doc(neuron, doc)
    if tag == "points":
        return _doc({"type": "number", "exclusiveMinimum": 0, "maximum": shape.high, "multipleOf": 0.5}, doc)
    if tag == "splits":
        points = {"type": "number", "minimum": 0, "maximum": MAX_POINTS, "multipleOf": 0.5}
        return _doc({"type": "array", "minItems": 1, "maxItems": shape.high, "items": points}, doc)
    if tag == "length":
        return _doc({"type": "string", "pattern": LENGTH_PATTERN}, doc)
    if tag == "choices":
        return _doc({"type": "array", "uniqueItems": True, "items": {"enum": list(shape.choices)}}, doc)
    if tag == "ranges":
        spec_range = table(RANGE_KEYS, doc="a range from … to … (step, exclude) or a value set")
        spec_range["oneOf"] = [{"required": ["values"]}, {"required": ["from", "to"]}]
        return _doc(
            {
                "type": "object",
                "minProperties": 1,
                "maxProperties": MAX_VARIED,
                "propertyNames": {"pattern": VARIED_PATH},
                "additionalProperties": spec_range,
            },
            doc,
        )
    raise KeyError(f"no schema for the shape {tag!r}")  # a new tag needs its schema here


def table(keys: Mapping[str, Shape], required: tuple[str, ...] = (), doc: str = "") -> Schema:
    """A TOML table of exactly ``keys``."""
    schema: Schema = {
        "type": "object",
        "properties": {key: value(shape) for key, shape in keys.items()},
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return _doc(schema, doc)


def part_key(key: str, shape: Shape) -> Schema:
    return value(shape, LIST_LIMITS[key][0] if key in LIST_LIMITS else None)


def parts(kinds: Mapping[str, PartKind[Any]] = KINDS) -> Schema:
    """[[parts]]: each a table of the common keys and its kind's own, checked by kind."""
    shapes: dict[str, list[Schema]] = {}
    for kind in kinds.values():
        for key, shape in kind.keys.items():
            schema = part_key(key, shape)
            if schema not in shapes.setdefault(key, []):
                shapes[key].append(schema)
    common = {key: part_key(key, shape) for key, shape in COMMON.items()}
    common["kind"] = {**common["kind"], "enum": list(kinds)}
    # Every key any kind takes, for completion; a key that kinds take differently is checked by kind below.
    union = {key: found[0] if len(found) == 1 else {"anyOf": found} for key, found in shapes.items()}
    by_kind = [
        {
            "if": {"properties": {"kind": {"enum": [name]}}, "required": ["kind"]},
            "then": {
                "propertyNames": {"enum": [*(COMMON if kind.network else NETLESS_COMMON), *kind.keys]},
                "properties": {key: part_key(key, shape) for key, shape in kind.keys.items() if len(shapes[key]) > 1},
                **({"required": list(kind.required)} if kind.required else {}),
            },
        }
        for name, kind in kinds.items()
    ]
    item = {
        "type": "object",
        "properties": {**common, **union},
        "required": ["kind"],
        "additionalProperties": False,
        "allOf": by_kind,
    }
    return {
        "description": "the questions of the sheet, one [[parts]] table each",
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_PARTS,
        "items": item,
    }


def variants() -> Schema:
    """[variants]: the givens that vary, and the good-instance budget."""
    keys = {key: shape for key, shape in VARIANTS_KEYS.items() if key != "good"}
    schema = table(keys, required=("vary",), doc="what varies from variant to variant")
    schema["properties"]["good"] = table(GOOD_KEYS, doc=VARIANTS_KEYS["good"].doc.partition(":")[0])
    return schema


def spec_schema() -> Schema:
    """The JSON Schema of a spec file, as TOML is read into JSON's types."""
    sheet = table(SHEET_KEYS, doc="the sheet's title, rounding and language")
    sheet["not"] = {"required": ["decimals", "significant"]}  # places or figures, not both
    layers = NETWORK_KEYS["layers"]
    network = table({key: shape for key, shape in NETWORK_KEYS.items() if key != "layers"}, doc="the network")
    network["properties"]["layers"] = {
        "description": layers.doc.partition(":")[0],
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_LAYERS,
        "items": table(LAYER_KEYS, required=_LAYER_KEYS),
    }
    network["required"] = ["layers"]
    loss = table(LOSS_KEYS, required=("name",), doc="the loss L")
    loss["allOf"] = [  # a custom loss has a formula, a built-in one none
        {"if": {"properties": {"name": {"enum": ["custom"]}}}, "then": {"required": ["formula"]}},
        {"if": {"properties": {"name": {"not": {"enum": ["custom"]}}}}, "then": {"not": {"required": ["formula"]}}},
    ]
    tables = {
        "sheet": sheet,
        "notation": table(NOTATION_KEYS, doc="the sheet's own names and notation"),
        "network": network,
        "loss": loss,
        "parts": parts(),
        "exam": table(EXAM_KEYS, doc="the exam layout (derive exam): its formula sheet, time and instructions"),
        "variants": variants(),
    }
    assert tuple(tables) == ROOT_KEYS, "a table of the spec without its schema"
    # A sheet of several exercises: [sheet], [notation] and [[exercises]], each entry an exercise's
    # own tables (as the spec's) or an include of a one-exercise spec file.
    exercise = table(
        {key: shape for key, shape in EXERCISE_KEYS.items() if key in ("title", "include")},
        doc="an exercise: its title, and its tables as a spec's or include = a one-exercise spec file",
    )
    exercise["properties"].update({key: tables[key] for key in ("notation", "network", "loss", "parts")})
    assert set(exercise["properties"]) == set(EXERCISE_KEYS), "a key of [[exercises]] without its schema"
    exercise["oneOf"] = [
        {"required": ["include"], "propertyNames": {"enum": list(_INCLUDED)}},
        {"required": ["parts"], "not": {"required": ["include"]}},
    ]
    several = {
        "description": "the sheet's exercises in order (docs/exercises.md)",
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_EXERCISES,
        "items": exercise,
    }
    return {
        "$schema": DIALECT,
        "title": "derive exercise spec",
        "description": "A neural-network exercise for derive (derive sheet SPEC.toml): docs/schema.md",
        "type": "object",
        "properties": {**tables, "exercises": several},
        # One exercise ([network] where a part works on one: the reader says which), or several.
        "oneOf": [
            {"required": ["parts"], "not": {"required": ["exercises"]}},
            {"required": ["exercises"], "propertyNames": {"enum": list(SHEET_ROOT_KEYS)}},
        ],
        "additionalProperties": False,
        "definitions": DEFINITIONS,
    }


QUANTITY: Mapping[str, tuple[Schema, str]] = {
    "name": ({"type": "string"}, "the answer key: scope and symbol, such as p1.L or p4.dL/dw1[2,1]"),
    "id": ({"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}, "the name as an identifier (formulas use it)"),
    "part": ({"type": ["integer", "null"], "minimum": 1}, "the part it belongs to; null for the given network"),
    "symbol": ({"type": "string"}, "its symbol in LaTeX, in the sheet's notation"),
    "exact": ({"type": ["string", "null"]}, "the exact value as a SymPy expression; null when too long"),
    "latex": ({"type": ["string", "null"]}, "the exact value in LaTeX; null when too long"),
    "float": ({"type": ["number", "null"]}, "the value as a float; null where it is infinite"),
    "decimal": ({"type": "string"}, "the decimal the sheet shows (LaTeX where it is a power of ten or infinite)"),
    "formula": ({"type": ["string", "null"]}, "how it is computed: a SymPy expression in the ids of uses"),
    "uses": ({"type": "array", "items": {"type": "string"}}, "the names of the quantities the formula uses"),
    "asked": ({"type": "boolean"}, "whether its part's question asks for it: the answer key"),
    "tolerance": (
        {"type": ["number", "null"], "minimum": 0},
        "half a unit in the decimal's last place: an answer this close rounds as the sheet does",
    ),
    "points": (
        {"type": ["number", "null"], "exclusiveMinimum": 0, "multipleOf": 0.5},
        "the points of its part (null: the sheet gives no points, or it is a given of the network)",
    ),
}
"""Each quantity's fields in the answers file, in their order there (and in the CSV's columns)."""


def answers_schema() -> Schema:
    """The JSON Schema of the answers file (``STEM-answers.json``), version :data:`VERSION`."""
    assert tuple(QUANTITY) == CSV_COLUMNS, "the answers' fields and the CSV's columns differ"
    fields: Schema = {key: {"description": doc, **schema} for key, (schema, doc) in QUANTITY.items()}
    quantity = {
        "type": "object",
        "properties": fields,
        "required": list(QUANTITY),
        "additionalProperties": False,
    }
    document = {
        "format": {"enum": [FORMAT], "description": "what this file is"},
        "version": {"enum": [VERSION], "description": "the version of this form; a new key comes with a new version"},
        "spec": {"type": "string", "description": "the spec's name: the stem of every output file"},
        "title": {"type": "string", "description": "the sheet's title"},
        "decimals": {"type": "integer", "minimum": 0, "description": "the places (or figures) the sheet shows"},
        "significant": {"type": "boolean", "description": "whether decimals counts significant figures"},
        "rounding": {
            "enum": list(POLICIES),
            "description": "student: each computed value is rounded to decimals as computed (exact: the rounded value)",
        },
        "note": {"type": "string", "description": "how to read exact and formula"},
        "points": {
            "type": ["number", "null"],
            "minimum": 0,
            "multipleOf": 0.5,
            "description": "the sheet's points in total (null: the sheet gives no points)",
        },
        "parts": {
            "type": "array",
            "description": "each part, in order, with its points",
            "items": {
                "type": "object",
                "properties": {
                    "part": {"type": "integer", "minimum": 1, "description": "its number"},
                    "kind": {"type": "string", "description": "its kind"},
                    "title": {"type": "string", "description": "its title (empty: none)"},
                    "points": {
                        "type": ["number", "null"],
                        "exclusiveMinimum": 0,
                        "multipleOf": 0.5,
                        "description": "what it is worth (null: no points)",
                    },
                    "exercise": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "on a sheet of several exercises only: the number of its exercise",
                    },
                },
                "required": ["part", "kind", "title", "points"],
                "additionalProperties": False,
            },
        },
        "quantities": {
            "type": "array",
            "items": quantity,
            "description": "every quantity of the sheet once, in the sheet's order",
        },
    }
    # A sheet of several exercises lists them, and marks each quantity with its exercise's number
    # (its name and id begin with it: e2.p3.L); a sheet of one has neither.
    fields[EXERCISE_COLUMN] = {
        "type": "integer",
        "minimum": 1,
        "description": "the exercise it belongs to, on a sheet of several (its name begins e<number>.)",
    }
    exercises = {
        "type": "array",
        "description": "the sheet's exercises in order, on a sheet of several",
        "items": {
            "type": "object",
            "properties": {"number": {"type": "integer", "minimum": 1}, "title": {"type": "string"}},
            "required": ["number", "title"],
            "additionalProperties": False,
        },
    }
    return {
        "$schema": DIALECT,
        "title": "derive answers",
        "description": "Every value of a derive sheet (STEM-answers.json): docs/schema.md",
        "type": "object",
        "properties": {**document, "exercises": exercises},
        "required": list(document),
        "additionalProperties": False,
    }


def generated() -> dict[str, str]:
    """Each schema's file text, by what it describes (as :data:`derive.schema.FILES` names them)."""
    return {"spec": text(spec_schema()), "answers": text(answers_schema())}


def text(schema: Schema) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
