"""Sharing a desk: clone, setup, sync, and the ticket merge driver git runs."""

from pathlib import Path

import click

from svcdesk.cli.output import echo, progress_factory


@click.command()
@click.argument("url")
@click.argument("folder", required=False, metavar="[DIR]")
@click.pass_obj
def clone(state, url, folder):
    """Join a shared desk: git clone URL into DIR, then set the clone up (the ticket merge
    driver, the index).

    \b
    Examples:
      svcdesk clone git@git.example.com:service/desk.git
      svcdesk clone https://gitea.example.com/service/desk.git desk
    """
    from svcdesk.app import sync

    name = folder or url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    if name.endswith(".git"):
        name = name[:-4]
    root = sync.clone(url, Path(name or "desk"), state.agent,
                      progress_factory("Indexing tickets"))
    echo(f"Cloned the desk into {root}; it is set up to sync (svcdesk sync)")


@click.command()
@click.pass_obj
def setup(state):
    """Set up this clone of a desk (made with plain git clone): the ticket merge driver in
    git's config and .gitattributes, and the index. Safe to run again."""
    from svcdesk.app import sync

    did = sync.setup(state.desk().root, state.agent, progress_factory("Indexing tickets"))
    echo("; ".join(did) if did else "This clone was already set up")


@click.command("sync")
@click.option("--dry-run", is_flag=True, help="Fetch and say what would happen; change nothing.")
@click.pass_obj
def sync_(state, dry_run):
    """Share this clone's changes through the desk's git remote: fetch, renumber tickets
    another clone numbered first, merge (tickets by their histories), push.

    \b
    Examples:
      svcdesk sync
      svcdesk sync --dry-run
    """
    from svcdesk.app import sync

    run = sync.sync(state.desk(), dry_run)
    echo(sync.said(run))


@click.command("merge-file", hidden=True)
@click.argument("base", type=click.Path(dir_okay=False))
@click.argument("ours", type=click.Path(dir_okay=False))
@click.argument("theirs", type=click.Path(dir_okay=False))
@click.argument("path", required=False, default="ticket")
@click.pass_obj
def merge_file(state, base, ours, theirs, path):
    """The ticket merge driver git runs (%O %A %B %P): writes the merge of OURS and THEIRS
    into OURS; a non-zero exit leaves the file to git as a conflict."""
    from svcdesk.app import sync

    sync.merge_file(state.desk_path, Path(ours), Path(theirs), path)


COMMANDS = [clone, setup, sync_, merge_file]
