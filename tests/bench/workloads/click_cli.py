"""Workload: a large click application (N subcommands, 4 options and an argument
each), its help pages rendered and every command invoked once in-process."""
import sys
import click
from click.testing import CliRunner

n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000

@click.group()
def cli():
    pass

def make(i):
    @click.option("--count", default=1, type=int, help="How many times.")
    @click.option("--name", default="x", help="A name.")
    @click.option("--verbose/--quiet", default=False, help="Talk more.")
    @click.option("--mode", type=click.Choice(["a", "b", "c"]), default="a")
    @click.argument("path", required=False)
    def command(count, name, verbose, mode, path):
        click.echo(f"{i}:{count}:{name}:{verbose}:{mode}:{path}")
    command.__name__ = f"cmd{i}"
    return cli.command(name=f"cmd{i}")(command)

commands = [make(i) for i in range(n)]
runner = CliRunner()
total = 0
for i in range(0, n, max(1, n // 200)):
    result = runner.invoke(cli, [f"cmd{i}", "--count", "3", "--name", "y", "p"])
    total += len(result.output)
helps = 0
for i in range(0, n, max(1, n // 50)):
    helps += len(runner.invoke(cli, [f"cmd{i}", "--help"]).output)
print(len(commands), total, helps)
