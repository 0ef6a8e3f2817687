"""CSV exports of an organization's customers, cars, invoices and payments."""
