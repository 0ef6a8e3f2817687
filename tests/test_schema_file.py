"""schema.graphql is generated from the code; it must never drift from it."""

from pathlib import Path

from schema.root import schema

SCHEMA_FILE = Path(__file__).parent.parent / "schema.graphql"
BUILT_IN = {"String", "Int", "Boolean", "ID", "Float"}


def test_committed_schema_matches_the_code():
    committed = SCHEMA_FILE.read_text()
    assert committed == schema.as_str() + "\n", (
        "schema.graphql is stale: run `portico export-schema -o schema.graphql` and commit it"
    )


def test_every_type_and_field_is_documented():
    undocumented = []
    for name, gql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN:
            continue
        if not gql_type.description:
            undocumented.append(name)
        for field_name, field in (getattr(gql_type, "fields", None) or {}).items():
            if not field.description:
                undocumented.append(f"{name}.{field_name}")
            for arg_name, arg in (getattr(field, "args", None) or {}).items():
                if not arg.description:
                    undocumented.append(f"{name}.{field_name}({arg_name})")
    assert undocumented == []
