"""What operators see of the running service: logs, metrics, error reports.

``logs`` adds the request and task ids to every log record, ``middleware`` takes
or makes the request id and writes one access line per request, ``metrics`` and
``views`` serve ``/metrics`` to Prometheus, ``sentry`` reports errors when a DSN
is configured. See docs/operations.md.
"""
