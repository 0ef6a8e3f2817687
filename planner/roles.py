"""What a query's variable does to its plan.

SHAPE: its value shapes the statement (a page size, a status), so plans are kept per value.
The others only fill parameters, so one plan serves every value of the same shape: a node's
id (the shape: its type), a cursor (whether one is given), a search (how many words, and
which are numbers), or a value bound as one parameter where it is given (the shape:
whether it is; null and "" are not).
"""

SHAPE = "shape"
NODE_ID = "node_id"
CURSOR = "cursor"
SEARCH = "search"
VALUE = "value"
