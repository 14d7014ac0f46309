"""``python -m symtensor.cache list|size|clear``: inspect or empty the on-disk compile cache.

The cache is ``config.compiledir`` (override with ``--compiledir`` or
``SYMTENSOR_FLAGS=compiledir=...``); ``clear`` removes what symtensor put there and
keeps the directory itself.
"""

import argparse
import sys

from symtensor.config import config
from symtensor.link.c import cache as _cache


def human_size(n):
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def human_age(seconds):
    """93784 -> '1d 2h'; short and rough, for listings."""
    seconds = int(seconds)
    for size, unit, sub_size, sub_unit in ((86400, "d", 3600, "h"), (3600, "h", 60, "m"), (60, "m", 1, "s")):
        if seconds >= size:
            rest = (seconds % size) // sub_size
            return f"{seconds // size}{unit} {rest}{sub_unit}"
    return f"{seconds}s"


def _cmd_list(root, out):
    entries = _cache.list_entries(root)
    if not entries:
        print(f"no compiled modules in {root}", file=out)
        return 0
    total = sum(e["size"] for e in entries)
    print(f"{len(entries)} compiled module(s) in {root}, {human_size(total)}", file=out)
    print(f"{'KEY':<{_cache.KEY_LEN}}  {'KIND':<16}  {'SIZE':>10}  AGE", file=out)
    for e in entries:
        print(f"{e['key']:<{_cache.KEY_LEN}}  {e['kind']:<16}  {human_size(e['size']):>10}  {human_age(e['age'])}",
              file=out)
    return 0


def _cmd_size(root, out):
    n = len(_cache.list_entries(root))
    size = _cache.total_size(root)
    print(f"{human_size(size)} ({size} bytes) in {n} compiled module(s) at {root}", file=out)
    return 0


def _cmd_clear(root, out):
    n, freed = _cache.clear(root)
    print(f"removed {n} compiled module(s), {human_size(freed)} freed; kept the directory {root}", file=out)
    return 0


def main(argv=None, out=None):
    """Entry point; returns the exit status."""
    out = sys.stdout if out is None else out
    parser = argparse.ArgumentParser(prog="python -m symtensor.cache",
                                     description="Inspect or empty symtensor's on-disk compile cache.")
    parser.add_argument("--compiledir", help=f"cache directory (default: config.compiledir = {config.compiledir})")
    sub = parser.add_subparsers(dest="command", metavar="{list,size,clear}")
    sub.required = True
    sub.add_parser("list", help="one line per compiled module: key, kind, size, age")
    sub.add_parser("size", help="total size of the cache")
    sub.add_parser("clear", help="remove every compiled module (the directory is kept)")
    args = parser.parse_args(argv)
    flags = {"compiledir": args.compiledir} if args.compiledir else {}
    try:
        with config.change_flags(**flags):
            root = _cache.compiledir(create=False)
            return {"list": _cmd_list, "size": _cmd_size, "clear": _cmd_clear}[args.command](root, out)
    except _cache.UnsafeCacheDirError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
