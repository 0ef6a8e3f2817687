// graphql-schema-linter's rules for Portico's schema.graphql (tests/test_schema_lint.py
// runs it with this folder as its config directory). Every rule of the linter is on,
// except the ones below, each with the reason.
module.exports = {
  rules: [
    'arguments-have-descriptions',
    'defined-types-are-used',
    'deprecations-have-a-reason',
    'descriptions-are-capitalized',
    'enum-values-all-caps',
    'fields-are-camel-cased',
    'fields-have-descriptions',
    'input-object-values-are-camel-cased',
    'input-object-values-have-descriptions',
    'relay-connection-arguments-spec',
    'relay-connection-types-spec',
    'relay-page-info-spec',
    'types-are-capitalized',
    'types-have-descriptions',
    // Off: 'enum-values-have-descriptions'. Portico's enum values are named to say what
    //   they mean (OVERDUE, NOT_FOUND, PASSWORDS_OFF) and the enum's own description says
    //   what they are for; a value that needs more words gets them in the code
    //   (strawberry.enum_value). The house rule, held by tests/test_schema_file.py, is a
    //   description on every type, field and argument.
    // Off: 'type-fields-sorted-alphabetically', 'input-object-fields-sorted-alphabetically',
    //   'interface-fields-sorted-alphabetically', 'enum-values-sorted-alphabetically'.
    //   Fields and values are ordered by meaning (id first, the object before userErrors,
    //   statuses in the order a document goes through them), which is what GraphiQL's
    //   docs and schema.graphql show a reader.
  ],
};
