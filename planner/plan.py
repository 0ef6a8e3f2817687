"""Turning one GraphQL query into one SQL statement that returns the response's JSON.

The planner walks the validated document the way the executor would, type by type, and
builds a statement (PostgreSQL's or SQLite's: what differs goes through `sql.Dialect`)
whose single value is the `data` object: columns become JSON
values formatted as the schema formats them, relations become correlated subqueries with
the same order, page sizes and cursors as the loaders, and every table gets the same
visibility conditions as every other read (auth/access.py). Anything it does not know
(an unlisted field, a directive, a refused permission, an argument it cannot check) makes
the whole query unplannable, and the ordinary executor answers instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    NamedTypeNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    ValueNode,
    VariableNode,
    coerce_input_value,
)

from auth.permissions import rules_of
from auth.sessions import BY_TOKEN as SESSION_BY_TOKEN
from auth.viewer import Viewer
from core.errors import NotFound
from core.ids import decode_id
from models import derived, tables
from models import relations as rel
from models.derived import DERIVED, onboarding_progress, status_filter
from models.loaders import Relation, Scope
from models.pagination import MAX_PAGE_SIZE, InvalidCursor, Ordering
from models.search import car_search, customer_search, search_params
from planner import sql
from planner.computed import COMPUTED, OBJECTS, Context
from planner.coverage import PLANNED_ROOTS
from planner.roles import CURSOR, NODE_ID, SEARCH, SHAPE, VALUE
from planner.variables import VariableValues, arguments_of, included
from planner.viewer import VIEWER_IDS, viewer_param

Expr = sa.ColumnElement[Any]
# A table, or an alias or lateral subquery of one: anything with columns to read.
Source = sa.FromClause


PAGE_FIELDS = frozenset({"nodes", "edges", "pageInfo"})
# The fields that read a page's cursors (Page.start_cursor, end_cursor, the edges').
CURSOR_FIELDS = frozenset({"cursor", "startCursor", "endCursor"})


# Root lists filtered by status, newest first: their table and type.
BY_STATUS = {
    "invoices": (tables.invoices, "Invoice"),
    "estimates": (tables.estimates, "Estimate"),
    "contracts": (tables.contracts, "Contract"),
}


Unplannable = sql.Unplannable  # the executor answers this query instead


# The column of the session-checked statement that holds the plan's JSON.
PLANNED = "planned"


# The parameters one variable's value gives, from the request's raw variables.
Derivation = Callable[[Mapping[str, Any]], dict[str, Any]]


# A cached plan's weight besides its SQL texts (its parameters, derivations, key), and an
# unfrozen plan's (its SQLAlchemy tree): measured with tracemalloc on the bench's workloads
# (bench/README.md, "Memory").
PLAN_BYTES = 4 * 1024
TREE_BYTES = 1024 * 1024


@dataclass
class Plan:
    statement: sa.Select[Any] | None  # None once frozen into its texts (`freeze`)
    params: dict[str, Any]
    # Response paths that may not be null: a null there means the executor must answer
    # (it raises the right error, e.g. NOT_FOUND from `node`).
    required: list[tuple[str, ...]] = field(default_factory=list)
    derivations: list[Derivation] = field(default_factory=list)
    fills: bool = False  # the answer holds values to fill in (planner/filled.py)
    # SQLite's parser has a fixed depth: a statement nested deeper than it parses goes to
    # the executor (set by `freeze`).
    too_deep: bool = False
    _texts: dict[str, Any] = field(default_factory=dict)
    _columns: dict[str, dict[str, Any]] = field(default_factory=dict)

    def params_for(self, variables: Mapping[str, Any]) -> dict[str, Any] | None:
        """The statement's parameters for this request's variables; None when a value
        does not decode (a malformed id or cursor: the executor reports it)."""
        params = dict(self.params)
        try:
            for derive in self.derivations:
                params.update(derive(variables))
        except (NotFound, InvalidCursor, TypeError, ValueError, AttributeError):
            return None
        return params

    def freeze(self, dialect: Any, params: dict[str, Any]) -> None:
        """Compile both texts now and let the statement's expression tree go: a plan kept
        in the cache then holds its SQL text, not the tree (about 0.9 MiB for a staff
        customer page, measured with tracemalloc). A plan whose text cannot be made (lists
        that change per viewer) keeps its statement."""
        checked = {**params, "token_hash": ""}  # the session check's, given per request
        plain, with_session = (
            self.as_text(dialect, params),
            self.with_session_text(dialect, checked),
        )
        if dialect.name == "sqlite":
            texts = [plain[0] if plain else str(self.select().compile(dialect=dialect))]
            texts += [with_session[0]] if with_session else []
            self.too_deep = not all(_sqlite_parses(text) for text in texts)
        if plain and with_session:
            self.statement = None

    def weight(self) -> int:
        """About the memory the plan holds, in bytes: its SQL texts once frozen (measured
        with tracemalloc: the texts and about PLAN_BYTES besides), or an expression tree's
        worth (TREE_BYTES) until then."""
        if self.statement is not None:
            return TREE_BYTES
        texts = sum(len(text[0]) for text in self._texts.values() if text is not None)
        return PLAN_BYTES + texts

    def select(self) -> sa.Select[Any]:
        assert self.statement is not None, "a frozen plan is executed as text"
        return self.statement

    def as_text(self, dialect: Any, params: dict[str, Any]) -> tuple[str, tuple[Any, ...]] | None:
        """The statement as SQL text with positional values, compiled once.

        Executing the statement object makes SQLAlchemy derive its cache key on every call,
        which for a whole response's statement costs more than the rest of the request.
        Lists that change per viewer (a driver's chosen cars) keep the ordinary way.
        """
        return self._text("plain", self.select, dialect, params)

    def with_session_text(
        self, dialect: Any, params: dict[str, Any]
    ) -> tuple[str, tuple[Any, ...]] | None:
        """The session check by token (auth/sessions.py) and the plan in one statement: one
        row of the session's columns and PLANNED, or no row when there is no live session.
        The plan is not correlated with the session, so PostgreSQL computes it once, and
        only when there is a row to put it in."""

        def build() -> sa.Select[Any]:
            session = SESSION_BY_TOKEN.subquery("session")
            if dialect.name == "sqlite":
                # The answer's expression itself, not a subquery of it: SQLite's parser
                # has a fixed depth, which deep answers come near.
                (data,) = self.select().selected_columns
                return sa.select(session, data.label(PLANNED))
            return sa.select(session, self.select().scalar_subquery().label(PLANNED))

        return self._text("with_session", build, dialect, params)

    def _text(
        self,
        name: str,
        build: Callable[[], sa.Select[Any]],
        dialect: Any,
        params: dict[str, Any],
    ) -> tuple[str, tuple[Any, ...]] | None:
        if name not in self._texts:
            compiled = build().compile(dialect=dialect)
            if any(b.expanding and b.key in params for b in compiled.binds.values()):
                self._texts[name] = None
            else:
                # Constant lists (statuses) are spelled out into single parameters once;
                # values that change per request are taken from `params` each time.
                expanded = compiled.construct_expanded_state(params)
                names = tuple(expanded.positiontup or ())
                # SQLite's driver takes no UUIDs or aware datetimes: its values go through
                # the types' own conversions (asyncpg takes them as they are).
                processors: dict[str, Any] = (
                    {**compiled._bind_processors, **expanded.processors}
                    if dialect.name == "sqlite"
                    else {}
                )
                fixed = {
                    n: processors[n](v) if n in processors else v
                    for n, v in expanded.parameters.items()
                }
                self._texts[name] = (expanded.statement, names, fixed, processors)
                self._columns[name] = _result_processors(compiled, dialect)
        if self._texts[name] is None:
            return None
        sql, names, fixed, processors = self._texts[name]
        if processors:  # each value converted once, however often the text repeats it
            params = {n: processors[n](v) if n in processors else v for n, v in params.items()}
        return sql, tuple(params[n] if n in params else fixed[n] for n in names)

    def decoded(self, name: str, row: Mapping[Any, Any]) -> Mapping[Any, Any]:
        """A row of the text `name` with values as the statement's types read them (only
        SQLite's driver needs it: it gives UUIDs and timestamps as text)."""
        columns = self._columns.get(name)
        if not columns:
            return row
        return {key: columns[key](value) if key in columns else value for key, value in row.items()}


def _sqlite_parses(text: str) -> bool:
    """Whether SQLite's parser takes the statement (on an empty database: only parsing
    is asked, so names it does not know are no matter)."""
    import sqlite3

    connection = sqlite3.connect(":memory:")
    try:
        connection.execute(text)
    except sqlite3.OperationalError as error:
        return "parser stack overflow" not in str(error)
    except sqlite3.Error:
        return True
    finally:
        connection.close()
    return True


def _result_processors(compiled: Any, dialect: Any) -> dict[str, Any]:
    if dialect.name != "sqlite":
        return {}
    found: dict[str, Any] = {}
    for column in compiled._result_columns:
        processor = column.type._cached_result_processor(dialect, None)
        if processor is not None:
            found[column.keyname] = processor
    return found


class Planner:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: VariableValues,
        viewer: Viewer,
        scope: Scope,
        dialect: sql.Dialect = sql.POSTGRESQL,
    ) -> None:
        self.schema = schema
        self.sql = dialect
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.operation = operation
        self.variables = variables
        self.viewer = viewer
        self.scope = scope
        self.params: dict[str, Any] = {}
        self.required: list[tuple[str, ...]] = []
        self.roles: dict[str, str] = {}  # variable name: role (SHAPE unless a parameter)
        self.derivations: list[Derivation] = []
        self.fills = False
        self._names = itertools.count()

    # --- entry ----------------------------------------------------------------------

    def plan(self) -> Plan:
        if self.operation.operation is not OperationType.QUERY:
            raise Unplannable("only queries")
        if self.operation.directives:
            raise Unplannable("directives")
        query = self.schema.query_type
        assert query is not None
        pairs = []
        for key, node in self.fields(query, self.operation.selection_set):
            pairs.append((key, self.root_field(key, node, query)))
        # As text: the driver would otherwise decode the JSON only for us to encode it again.
        data = self.sql.as_text(self.sql.json_object(pairs)).label("data")
        return Plan(sa.select(data), self.params, self.required, self.derivations, self.fills)

    # --- selections -----------------------------------------------------------------

    def object_type(self, name: str) -> GraphQLObjectType:
        """The schema's object type of that name."""
        gql_type = self.schema.type_map[name]
        assert isinstance(gql_type, GraphQLObjectType), name
        return gql_type

    def row_type(self, type_name: str) -> tuple[Any, sa.Table]:
        """The class behind a type built from rows, and its table (bound by `row_type`)."""
        definition = self.object_type(type_name).extensions["strawberry-definition"]
        return definition.origin, vars(definition.origin)["__table__"]

    def is_node(self, type_name: str) -> bool:
        """Whether `node(id:)` answers with this type: one of the `Node` interface's."""
        gql_type = self.schema.type_map.get(type_name)
        return isinstance(gql_type, GraphQLObjectType) and any(
            i.name == "Node" for i in gql_type.interfaces
        )

    def fields(
        self, parent: GraphQLObjectType, selection_set: SelectionSetNode | None
    ) -> list[tuple[str, FieldNode]]:
        """The fields the executor would resolve on `parent`, by response key, in order."""
        found: list[tuple[str, FieldNode]] = []
        for selection in selection_set.selections if selection_set else ():
            if not self.included(selection):
                continue
            if isinstance(selection, FieldNode):
                found.append(((selection.alias or selection.name).value, selection))
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                condition: NamedTypeNode | None = fragment.type_condition
                inner = fragment.selection_set
            elif isinstance(selection, InlineFragmentNode):
                condition, inner = selection.type_condition, selection.selection_set
            else:
                raise Unplannable("selection")
            if condition is None or condition.name.value == parent.name:
                found += self.fields(parent, inner)
            elif condition.name.value not in {i.name for i in parent.interfaces}:
                continue  # a fragment on another object type selects nothing here
            else:
                found += self.fields(parent, inner)
        keys = [key for key, _ in found]
        if len(keys) != len(set(keys)):
            raise Unplannable("merged fields")
        return found

    def included(self, selection: Any) -> bool:
        """@include and @skip, decided with the request's variables as the executor decides
        them (planner/variables.py); their variables then shape the plan, which holds only
        what was included. Any other directive is unplannable."""
        for directive in selection.directives or ():
            if directive.name.value not in ("include", "skip"):
                raise Unplannable(f"directive @{directive.name.value}")
            for argument in directive.arguments or ():
                for variable in _variables_in(argument.value):
                    self._take_role(variable, SHAPE)
        try:
            return included(selection, self.variables)
        except GraphQLError as error:
            raise Unplannable("directive: the executor reports it") from error

    def argument(
        self, node: FieldNode, name: str, gql_field: Any, default: Any = None, role: str = SHAPE
    ) -> Any:
        """The value the resolver receives (coerced variables, schema defaults applied).
        A variable read here takes `role`; one read in two roles, or inside a list or an
        input object, shapes the statement."""
        for argument in node.arguments or ():
            if argument.name.value == name:
                value = argument.value
                if isinstance(value, VariableNode):
                    self._take_role(value.name.value, role)
                else:
                    for inner in _variables_in(value):
                        self._take_role(inner, SHAPE)
        try:
            return arguments_of(gql_field, node, self.variables).get(name, default)
        except GraphQLError as error:  # e.g. a null for `first: Int! = 20`
            raise Unplannable("argument: the executor reports it") from error

    def _take_role(self, variable: str, role: str) -> None:
        known = self.roles.get(variable)
        self.roles[variable] = role if known in (None, role) else SHAPE

    def variable_of(self, node: FieldNode, name: str, role: str) -> str | None:
        """The variable an argument names, where it plays `role` (and no other)."""
        for argument in node.arguments or ():
            value = argument.value
            if argument.name.value == name and isinstance(value, VariableNode):
                variable = value.name.value
                return variable if self.roles.get(variable) == role else None
        return None

    def derive(self, variable: str | None, derivation: Callable[[Any], dict[str, Any]]) -> None:
        """Where the argument was a variable, its parameters come from each request's
        value (absent: the declared default, which the plan already holds)."""
        if variable is not None:
            self.derivations.append(
                lambda variables: derivation(variables[variable]) if variable in variables else {}
            )

    def bind(self, value: Any, type_: Any = None) -> sa.BindParameter[Any]:
        name = f"p{next(self._names)}"
        self.params[name] = value
        return sa.bindparam(name, type_=type_)

    # --- root fields ------------------------------------------------------------------

    def guard(self, gql_field: Any) -> Any:
        definition = (gql_field.extensions or {}).get("strawberry-definition")
        if definition is None:
            raise Unplannable("not a strawberry field")
        for rule in rules_of(definition.extensions):
            if not rule.allows(self.viewer):
                raise Unplannable("refused: the executor reports it")
        return definition

    def root_field(self, key: str, node: FieldNode, query: GraphQLObjectType) -> Expr:
        name = node.name.value
        if name == "__typename":
            return sql.text(query.name)
        gql_field = query.fields.get(name)
        if gql_field is None or name not in PLANNED_ROOTS:
            raise Unplannable(name)
        self.guard(gql_field)
        if name == "viewer":
            return self.viewer_object(node, gql_field)
        if name == "node":
            self.required.append((key,))
            try:
                type_name, row_id = decode_id(self.argument(node, "id", gql_field, role=NODE_ID))
            except NotFound as error:
                raise Unplannable("malformed id: the executor reports it") from error
            if not self.is_node(type_name):
                raise Unplannable("unknown type")
            row_param = self.bind(row_id, sa.Uuid())
            self.derive(
                self.variable_of(node, "id", NODE_ID),
                lambda value: {row_param.key: _row_of(type_name, value)},
            )
            return self.row_by_id(type_name, row_param, node)
        if name == "organization":
            return self.row_by_id("Organization", viewer_param("organization"), node)
        if name in ("customers", "cars"):
            return self.root_list(name, node, gql_field)
        if name in ("invoices", "estimates", "contracts"):
            return self.bills(name, node, gql_field)
        if name == "appointments":
            return self.appointments(node, gql_field)
        if name == "conversations":
            return self.conversations(node, gql_field)
        if name == "billingPlans":
            return self.billing_plans(node, gql_field)
        if name == "staffUsers":
            return self.staff_users(node, gql_field)
        if name == "emailDeliveries":
            return self.email_deliveries(node, gql_field)
        assert name == "auditEvents", name
        return self.audit_events(node, gql_field)

    def viewer_object(self, node: FieldNode, gql_field: Any) -> Expr:
        viewer_type = gql_field.type.of_type
        ids = {
            "organization": ("Organization", "organization"),
            "staffUser": ("StaffUser", "staff_user"),
            "customer": ("Customer", "customer"),
            "contact": ("Contact", "contact"),
        }
        pairs: list[tuple[str, Expr]] = []
        for key, child in self.fields(viewer_type, node.selection_set):
            name = child.name.value
            if name == "__typename":
                pairs.append((key, sql.text(viewer_type.name)))
            elif name == "kind":
                pairs.append((key, sql.text(self.viewer.kind.value)))
            elif name in ids:
                self.guard(viewer_type.fields[name])
                type_name, role = ids[name]
                if VIEWER_IDS[role](self.viewer) is None:
                    pairs.append((key, sa.null()))
                else:
                    pairs.append((key, self.row_by_id(type_name, viewer_param(role), child)))
            else:
                raise Unplannable(f"viewer.{name}")
        return self.sql.json_object(pairs)

    @staticmethod
    def only_arguments(node: FieldNode, known: set[str]) -> None:
        """An argument the planner does not apply must not be silently dropped."""
        for argument in node.arguments or ():  # None when the field has none
            if argument.name.value not in known:
                raise Unplannable(f"argument {argument.name.value}")

    def root_list(self, name: str, node: FieldNode, gql_field: Any) -> Expr:
        known = {"search", "status", "includeArchived", "first", "after", "onboarding"}
        self.only_arguments(node, known)
        first = self.page_size(node, gql_field)
        table = tables.customers if name == "customers" else tables.cars
        search = self.argument(node, "search", gql_field, role=SEARCH)
        words = self.alias_name()
        self.derive(
            self.variable_of(node, "search", SEARCH), lambda value: search_params(words, value)
        )
        conditions: list[Expr] = []
        if name == "customers":
            conditions += customer_search(table, search, names=words)
            ordering = rel.BY_NAME
            onboarding = self.argument(node, "onboarding", gql_field)
            if onboarding is not None:  # COMPLETE or INCOMPLETE (resolvers/onboarding.py)
                complete = onboarding_progress(table, tables.onboarding_steps)["complete"]
                conditions.append(complete if onboarding.name == "COMPLETE" else ~complete)
        else:
            conditions += car_search(table, search, names=words)
            ordering = rel.CARS_BY_MAKE
            status = self.argument(node, "status", gql_field)
            if status is not None:
                conditions.append(table.c.status == status)
        conditions += rel.archived_filter(
            table, bool(self.argument(node, "includeArchived", gql_field, False))
        )
        after = self.argument(node, "after", gql_field, role=CURSOR)
        type_name = "Customer" if name == "customers" else "Car"
        return self.connection(
            type_name, table, ordering, conditions, first, after, node, gql_field.type
        )

    def bills(self, name: str, node: FieldNode, gql_field: Any) -> Expr:
        """Invoices, estimates or contracts, newest first (resolvers.lists.by_status)."""
        self.only_arguments(node, {"status", "first", "after"})
        first = self.page_size(node, gql_field)
        table, type_name = BY_STATUS[name]
        status = self.argument(node, "status", gql_field)
        conditions = status_filter(table, status)
        after = self.argument(node, "after", gql_field, role=CURSOR)
        ordering = rel.NEWEST_FIRST[table.name]
        return self.connection(
            type_name, table, ordering, conditions, first, after, node, gql_field.type
        )

    def appointments(self, node: FieldNode, gql_field: Any) -> Expr:
        """Appointments by start (resolvers.lists.appointments)."""
        self.only_arguments(node, {"startsAfter", "startsBefore", "status", "first", "after"})
        first = self.page_size(node, gql_field)
        starts = tables.appointments.c.starts_at.type
        conditions = rel.appointment_filter(
            self.bound_value(node, "startsAfter", gql_field, starts),
            self.bound_value(node, "startsBefore", gql_field, starts),
            self.argument(node, "status", gql_field),
        )
        after = self.argument(node, "after", gql_field, role=CURSOR)
        return self.connection(
            "Appointment",
            tables.appointments,
            rel.APPOINTMENTS_BY_START,
            conditions,
            first,
            after,
            node,
            gql_field.type,
        )

    def billing_plans(self, node: FieldNode, gql_field: Any) -> Expr:
        """The organization's plans by name (resolvers.lists.billing_plans)."""
        self.only_arguments(node, {"includeArchived", "first", "after"})
        first = self.page_size(node, gql_field)
        table = tables.billing_plans
        archived = bool(self.argument(node, "includeArchived", gql_field, False))
        after = self.argument(node, "after", gql_field, role=CURSOR)
        return self.connection(
            "BillingPlan",
            table,
            rel.PLANS_BY_NAME,
            rel.archived_filter(table, archived),
            first,
            after,
            node,
            gql_field.type,
        )

    def conversations(self, node: FieldNode, gql_field: Any) -> Expr:
        """Each customer's newest message (resolvers.lists.conversations)."""
        self.only_arguments(node, {"unreadOnly", "first", "after"})
        first = self.page_size(node, gql_field)
        conditions = rel.conversation_filter(bool(self.argument(node, "unreadOnly", gql_field)))
        after = self.argument(node, "after", gql_field, role=CURSOR)
        table = tables.messages
        return self.connection(
            "Conversation",
            table,
            rel.NEWEST_FIRST[table.name],
            conditions,
            first,
            after,
            node,
            gql_field.type,
        )

    def audit_events(self, node: FieldNode, gql_field: Any) -> Expr:
        """The audit trail, newest first (resolvers.lists.audit_events)."""
        self.only_arguments(node, {"action", "customerId", "first", "after"})
        first = self.page_size(node, gql_field)
        action = self.bound_value(node, "action", gql_field, tables.audit_events.c.action.type)
        customer = None
        customer_id = self.argument(node, "customerId", gql_field, role=NODE_ID)
        if customer_id:
            try:
                customer = self.bind(_row_of("Customer", customer_id), sa.Uuid())
            except NotFound as error:
                raise Unplannable("malformed id: the executor reports it") from error
            param = customer.key
            self.derive(
                self.variable_of(node, "customerId", NODE_ID),
                lambda value: {param: _row_of("Customer", value)},
            )
        after = self.argument(node, "after", gql_field, role=CURSOR)
        table = tables.audit_events
        return self.connection(
            "AuditEvent",
            table,
            rel.NEWEST_FIRST[table.name],
            rel.audit_filter(action, customer),
            first,
            after,
            node,
            gql_field.type,
        )

    def staff_users(self, node: FieldNode, gql_field: Any) -> Expr:
        """The organization's staff by name (resolvers.lists.staff_users)."""
        self.only_arguments(node, {"status", "first", "after"})
        first = self.page_size(node, gql_field)
        table = tables.staff_users
        status = self.bound_value(node, "status", gql_field, table.c.status.type)
        conditions = [] if status is None else [table.c.status == status]
        after = self.argument(node, "after", gql_field, role=CURSOR)
        return self.connection(
            "StaffUser",
            table,
            rel.STAFF_BY_NAME,
            conditions,
            first,
            after,
            node,
            gql_field.type,
        )

    def email_deliveries(self, node: FieldNode, gql_field: Any) -> Expr:
        """The delivery log, newest first (resolvers.lists.email_deliveries)."""
        self.only_arguments(node, {"state", "kind", "channel", "recipient", "first", "after"})
        first = self.page_size(node, gql_field)
        table = tables.outbox_emails
        state = self.bound_value(node, "state", gql_field, sa.String())
        kind = self.bound_value(node, "kind", gql_field, table.c.kind.type)
        channel = self.bound_value(node, "channel", gql_field, table.c.channel.type)
        recipient = self.bound_value(node, "recipient", gql_field, sa.String())
        conditions: list[sa.ColumnElement[bool]] = []
        if state is not None:
            conditions.append(derived.delivery_state(table) == state)
        if kind is not None:
            conditions.append(table.c.kind == kind)
        if channel is not None:
            conditions.append(table.c.channel == channel)
        if recipient is not None:
            address = sa.func.lower(sa.func.trim(recipient))
            conditions.append(sa.func.lower(table.c.to_address) == address)
        after = self.argument(node, "after", gql_field, role=CURSOR)
        return self.connection(
            "EmailDelivery",
            table,
            rel.NEWEST_FIRST["outbox_emails"],
            conditions,
            first,
            after,
            node,
            gql_field.type,
        )

    def bound_value(
        self, node: FieldNode, name: str, gql_field: Any, type_: Any
    ) -> sa.BindParameter[Any] | None:
        """An argument as a parameter where it is given (null and "" are not), each
        request's value coerced as the executor coerces it."""
        value = self.argument(node, name, gql_field, role=VALUE)
        if value is None or value is Undefined or value == "":
            return None
        param = self.bind(value, type_)
        input_type = gql_field.args[name].type
        self.derive(
            self.variable_of(node, name, VALUE),
            lambda raw: {param.key: _coerced(raw, input_type)},
        )
        return param

    # --- objects --------------------------------------------------------------------

    def row_by_id(self, type_name: str, row_id: sa.BindParameter[Any], node: FieldNode) -> Expr:
        _cls, table = self.row_type(type_name)
        t = table.alias(self.alias_name())
        body = self.object_json(type_name, t, node.selection_set, Context())
        where = [*self.conditions(table, t), t.c.id == row_id]
        return sa.select(body).where(*where).scalar_subquery()

    def row_by_key(self, type_name: str, source: Source, column: str, node: FieldNode) -> Expr:
        """The row of `type_name` that `source`'s `column` names (null when the viewer may
        not see it), as an object field's loader reads it."""
        _cls, table = self.row_type(type_name)
        t = table.alias(self.alias_name())
        body = self.object_json(type_name, t, node.selection_set, Context())
        where = [*self.conditions(table, t), t.c.id == source.c[column]]
        return sa.select(body).where(*where).correlate(source).scalar_subquery()

    def alias_name(self) -> str:
        return f"t{next(self._names)}"

    def conditions(self, table: sa.Table, source: Source) -> list[Expr]:
        """The viewer's visibility conditions, rewritten onto an alias of the table."""
        adapter = sa.sql.util.ClauseAdapter(source)
        return [adapter.traverse(c) for c in self.scope.conditions(table)]

    def object_json(
        self, type_name: str, source: Source, selection_set: SelectionSetNode | None, ctx: Context
    ) -> Expr:
        if type_name in OBJECTS:
            return OBJECTS[type_name](self, source, selection_set)
        gql_type = self.schema.type_map[type_name]
        assert isinstance(gql_type, GraphQLObjectType)
        cls, table = self.row_type(type_name)
        pairs: list[tuple[str, Expr]] = []
        for key, node in self.fields(gql_type, selection_set):
            pairs.append((key, self.object_field(type_name, cls, table, source, node, ctx)))
        return self.sql.json_object(pairs)

    def object_field(
        self,
        type_name: str,
        cls: Any,
        table: sa.Table,
        source: Source,
        node: FieldNode,
        ctx: Context,
    ) -> Expr:
        name = node.name.value
        if name == "__typename":
            return sql.text(type_name)
        gql_type = self.schema.type_map[type_name]
        assert isinstance(gql_type, GraphQLObjectType)
        gql_field = gql_type.fields.get(name)
        if gql_field is None:
            raise Unplannable(name)
        definition = self.guard(gql_field)
        python_name = definition.python_name
        if python_name == "id":
            return self.sql.global_id(type_name, source.c.id)
        plan = getattr(definition, "plan", None)
        if plan is not None:
            return self.relation_field(plan, source, node, gql_field)
        derived = DERIVED.get(table.name, {}).get(python_name)
        if derived is not None and not node.selection_set:
            return derived(source)  # the loaders' own expression (models/derived.py)
        if python_name in cls.__copied__ and not node.selection_set:
            return self.sql.scalar(source.c[python_name], table.c[python_name].type)
        computed = COMPUTED.get((type_name, python_name))
        if computed is None:
            raise Unplannable(f"{type_name}.{name}")
        return computed(self, source, node, ctx)

    def relation_field(
        self, plan: tuple[str, Any, str], source: Source, node: FieldNode, gql_field: Any
    ) -> Expr:
        kind, target, type_name = plan
        if kind == "object":
            return self.row_by_key(type_name, source, target, node)
        relation: Relation = target
        first = self.page_size(node, gql_field)
        # A nested cursor applies to every parent's rows, as the loaders apply it
        # (models/loaders.py page); one cursor per query, as for root lists.
        after = self.argument(node, "after", gql_field, role=CURSOR)
        table = relation.table
        return self.connection(
            type_name,
            table,
            relation.ordering,
            [],
            first,
            after,
            node,
            gql_field.type,
            relation=relation,
            parent=source,
        )

    def children(
        self,
        relation: Relation,
        type_name: str,
        source: Source,
        node: FieldNode,
        ctx: Context,
    ) -> Expr:
        """Every child row as a JSON array (line items), in the relation's order."""
        t = relation.table.alias(self.alias_name())
        where = [
            *self.conditions(relation.table, t),
            t.c[relation.key] == source.c.id,
            *self.adapt(relation.where(relation.table), t),
        ]
        return self.sql.ordered_array(
            sa.select(t).where(*where).correlate(source),
            self.alias_name(),
            lambda rows: self.object_json(type_name, rows, node.selection_set, ctx),
            relation.ordering.order_by(),
        )

    def adapt(self, clauses: Any, source: Source) -> list[Expr]:
        adapter = sa.sql.util.ClauseAdapter(source)
        return [adapter.traverse(c) for c in clauses]

    # --- connections ----------------------------------------------------------------

    def page_size(self, node: FieldNode, gql_field: Any) -> int:
        first = self.argument(node, "first", gql_field, 20)
        if not isinstance(first, int) or not 0 <= first <= MAX_PAGE_SIZE:
            raise Unplannable("page size: the executor reports it")
        return first

    def connection(
        self,
        type_name: str,
        table: sa.Table,
        ordering: Ordering,
        conditions: list[Expr],
        first: int,
        after: str | None,
        node: FieldNode,
        connection_type: Any,
        relation: Relation | None = None,
        parent: Source | None = None,
    ) -> Expr:
        t = table.alias(self.alias_name())
        where = [*self.conditions(table, t), *self.adapt(conditions, t)]
        if relation is not None and parent is not None:
            where += [t.c[relation.key] == parent.c.id, *self.adapt(relation.where(table), t)]
        count_where = list(where)
        if after is not None:
            if "after_0" in self.params:
                raise Unplannable("one cursor per query")
            try:
                self.params.update(Ordering.after_params(ordering.decode(after)))
            except InvalidCursor as exc:
                raise Unplannable("cursor: the executor reports it") from exc
            self.derive(
                self.variable_of(node, "after", CURSOR),
                lambda value: Ordering.after_params(ordering.decode(value)),
            )
            where.append(self.adapt([ordering.after()], t)[0])
        order = self.adapt(ordering.order_by(), t)
        connection = self.schema.type_map[_named(connection_type)]
        assert isinstance(connection, GraphQLObjectType)
        # Each row's cursor only where the query reads cursors: a nested page of nodes
        # would otherwise encode one per row for nothing (on SQLite a call back into
        # Python per row).
        columns: list[Any] = [t]
        if self.reads_cursors(connection, node):
            sort_values = [
                self.sql.cursor_value(t.c[col.name], col.type) for col, _ in ordering.keys
            ]
            columns.append(self.sql.cursor(sort_values).label("_cursor"))
        # The page and one row more (it says whether there is a next page); rows are
        # numbered after the LIMIT, so the database sorts only up to the page, with an
        # index, instead of numbering the whole list. totalCount counts on its own.
        limited = (
            sa.select(*columns)
            .where(*where)
            .order_by(*order)
            .limit(sa.literal_column(str(first + 1), sa.Integer()))
        )
        if parent is not None:
            limited = limited.correlate(parent)
        # LATERAL: the page may refer to the parent row of the enclosing query.
        page = self.sql.paged(limited, order, first, (self.alias_name(), self.alias_name()))
        rows = page.rows

        pairs: list[tuple[str, Expr]] = []
        for key, child in self.fields(connection, node.selection_set):
            name = child.name.value
            if name == "__typename":
                pairs.append((key, sql.text(connection.name)))
            elif name == "nodes":
                body = self.object_json(type_name, rows, child.selection_set, Context())
                pairs.append((key, page.array(body)))
            elif name == "edges":
                pairs.append((key, self.edges(type_name, page, child, connection)))
            elif name == "pageInfo":
                pairs.append((key, self.page_info(child, page, after)))
            elif name == "totalCount":
                counted = sa.select(sa.func.count()).select_from(t).where(*count_where)
                if parent is not None:
                    counted = counted.correlate(parent)
                pairs.append((key, counted.scalar_subquery()))
            else:
                raise Unplannable(f"connection.{name}")
        # Only nodes, edges and pageInfo read the page (as aggregates, so an empty page
        # still gives one row); a connection asked only for its count must not read the
        # page at all, or an empty page would make the whole connection null.
        reads_page = any(
            child.name.value in PAGE_FIELDS
            for _, child in self.fields(connection, node.selection_set)
        )
        answer = sa.select(self.sql.json_object(pairs))
        return (answer.select_from(rows) if reads_page else answer).scalar_subquery()

    def reads_cursors(self, connection: GraphQLObjectType, node: FieldNode) -> bool:
        """Whether the connection's selection reads a cursor (an edge's, or pageInfo's
        start or end)."""
        for _, child in self.fields(connection, node.selection_set):
            name = child.name.value
            if name not in {"edges", "pageInfo"}:
                continue
            inner = self.schema.type_map[_named(connection.fields[name].type)]
            assert isinstance(inner, GraphQLObjectType)
            if any(
                f.name.value in CURSOR_FIELDS for _, f in self.fields(inner, child.selection_set)
            ):
                return True
        return False

    def edges(
        self,
        type_name: str,
        page: sql.Page,
        node: FieldNode,
        connection: GraphQLObjectType,
    ) -> Expr:
        edge_type = self.schema.type_map[_named(connection.fields["edges"].type)]
        assert isinstance(edge_type, GraphQLObjectType)
        pairs: list[tuple[str, Expr]] = []
        for key, child in self.fields(edge_type, node.selection_set):
            name = child.name.value
            if name == "cursor":
                pairs.append((key, page.rows.c._cursor))
            elif name == "node":
                pairs.append(
                    (key, self.object_json(type_name, page.rows, child.selection_set, Context()))
                )
            elif name == "__typename":
                pairs.append((key, sql.text(edge_type.name)))
            else:
                raise Unplannable(f"edge.{name}")
        return page.array(self.sql.json_object(pairs))

    def page_info(
        self,
        node: FieldNode,
        page: sql.Page,
        after: str | None,
    ) -> Expr:
        page_info = self.schema.type_map["PageInfo"]
        assert isinstance(page_info, GraphQLObjectType)
        pairs: list[tuple[str, Expr]] = []
        for key, child in self.fields(page_info, node.selection_set):
            name = child.name.value
            if name == "hasNextPage":
                pairs.append((key, page.has_next()))
            elif name == "hasPreviousPage":
                pairs.append((key, self.sql.boolean(bool(after))))
            elif name == "startCursor":
                pairs.append((key, page.start_cursor()))
            elif name == "endCursor":
                pairs.append((key, page.end_cursor()))
            elif name == "__typename":
                pairs.append((key, sql.text("PageInfo")))
            else:
                raise Unplannable(f"pageInfo.{name}")
        return self.sql.json_object(pairs)


def _named(type_: Any) -> str:
    while hasattr(type_, "of_type"):
        type_ = type_.of_type
    return type_.name


Computed = Callable[[Planner, Source, FieldNode, Context], Expr]


def _row_of(type_name: str, global_id: Any) -> Any:
    """The row id of a global ID of `type_name` (the plan's; any other does not decode)."""
    decoded_type, row_id = decode_id(global_id)
    if decoded_type != type_name:
        raise NotFound()
    return row_id


def _coerced(raw: Any, input_type: Any) -> Any:
    """A variable's value as the executor receives it (ValueError: it does not coerce)."""
    try:
        value = coerce_input_value(raw, input_type)
    except GraphQLError as error:
        raise ValueError(error.message) from error
    if value is Undefined:
        raise ValueError(f"{raw!r} is not a {input_type}")
    return value


def _variables_in(value: ValueNode) -> list[str]:
    """The variables a list or input object literal holds, at any depth."""
    if isinstance(value, VariableNode):
        return [value.name.value]
    if isinstance(value, ListValueNode):
        return [name for item in value.values for name in _variables_in(item)]
    if isinstance(value, ObjectValueNode):
        return [name for f in value.fields for name in _variables_in(f.value)]
    return []
