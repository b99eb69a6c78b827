"""``mltrace serve``: the embedded store over ClickHouse's HTTP interface and OTLP/HTTP."""

from __future__ import annotations

import click

from mltrace_otel import config
from mltrace_otel.server import discovery


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; a non-loopback one needs passwords.")
@click.option("--port", default=8123, show_default=True, type=click.IntRange(0, 65535),
              help="ClickHouse HTTP interface port.")
@click.option("--otlp-port", default=4318, show_default=True, type=click.IntRange(0, 65535),
              help="OTLP/HTTP port (0: no OTLP listener).")
@click.option("--home", default=None, help="Store folder (default: MLTRACE_HOME).")
@click.option("--password", envvar="MLTRACE_SERVE_PASSWORD", default="", show_envvar=True,
              help="Password of user 'default' (prefer the environment variable).")
@click.option("--readonly-user", default=None, help="Name of a read-only user (dashboards).")
@click.option("--readonly-password", envvar="MLTRACE_SERVE_READONLY_PASSWORD", default="",
              show_envvar=True, help="Password of the read-only user.")
@click.option("--max-body-mb", default=256, show_default=True, help="Largest request body.")
@click.option("--query-timeout", default=300.0, show_default=True,
              help="Seconds a query may run.")
def serve(host: str, port: int, otlp_port: int, home: str | None, password: str,
          readonly_user: str | None, readonly_password: str, max_body_mb: int,
          query_timeout: float) -> None:
    """Serve the embedded store: ClickHouse HTTP on --port, OTLP/HTTP on --otlp-port.

    While it runs, local mltrace processes query through it. SIGTERM stops it cleanly.
    """
    from mltrace_otel.cli.captured import runner_for
    from mltrace_otel.server.app import ServeOptions
    from mltrace_otel.server.app import serve as run_server
    from mltrace_otel.server.clickhouse_http import Limits
    from mltrace_otel.store import StoreError

    settings = config.resolve(backend="local", home=home)
    running = discovery.running_server(settings.home)
    if running is not None:
        raise click.ClickException(f"{settings.home} is already served at {running.url} "
                                   f"(pid {running.pid})")
    options = ServeOptions(
        host=host, port=port, otlp_port=otlp_port, password=password,
        readonly_user=readonly_user, readonly_password=readonly_password,
        limits=Limits(max_body_bytes=max_body_mb << 20, query_seconds=query_timeout),
        run_command=runner_for(click.get_current_context().find_root().command),
    )

    def ready(info: object) -> None:
        otlp = getattr(info, "otlp_url", None)
        click.echo(f"mltrace serve: store {settings.home}", err=True)
        click.echo(f"  ClickHouse HTTP  {getattr(info, 'url', '')}", err=True)
        if otlp:
            click.echo(f"  OTLP/HTTP        {otlp}/v1/traces", err=True)

    try:
        run_server(settings, options, ready)
    except (config.ConfigurationError, StoreError) as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}: {error}") from None
