"""Documents and contracts: files staff keep for customers and customers' own papers;
contracts staff send and customers sign."""
