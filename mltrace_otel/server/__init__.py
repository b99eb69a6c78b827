"""``mltrace serve``: the embedded store as a server (ClickHouse HTTP interface and OTLP/HTTP)."""
