"""marshmallow schemas: the one place that says what the API accepts and returns."""
