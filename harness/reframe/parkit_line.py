"""Regular expressions for the fields of parkit's "PARKIT key=value ..."
line, for harnesses that match text (ReFrame's sanity functions, JUBE's
patterns). Standard library only: parkit_checks.py loads this file with
reframe.utility.import_module_from_file, and the test suite imports it
without ReFrame.

A value on the line is bare or double-quoted with backslash escapes
(README.md, "The key=value line"). `field(KEY)` skips whole pairs before
KEY, quoted ones included, so a quoted value that happens to contain
" rate=1" (a path) is never taken for the field. Every pattern has one
named group, "value"; numbers and names are always bare.

    sn.extractsingle(field("rate"), self.stdout, "value", float)
"""
import re

# One " key=value" pair, the value bare or quoted.
PAIR = r' [a-z][a-z0-9_-]*=(?:"(?:[^"\\]|\\.)*"|[^ "\\=]+)'
BARE = r'[^ "\\=]+'
QUOTED_OR_BARE = r'"(?:[^"\\]|\\.)*"|[^ "\\=]+'


def field(key, value=BARE):
    """The pattern whose group "value" is KEY's value on the PARKIT line
    (use with re.MULTILINE, as ReFrame and JUBE do)."""
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", key):
        raise ValueError(f"{key!r} is not a key of the PARKIT line")
    return (rf"^PARKIT(?:{PAIR})*? {re.escape(key)}=(?P<value>{value})"
            r"(?= |$)")


def keys(line):
    """The keys of one PARKIT line, in order (e.g. to find its out_NAME
    headline outputs)."""
    found, position = [], len("PARKIT")
    pair = re.compile(r" ([a-z][a-z0-9_-]*)=(?:" + QUOTED_OR_BARE + ")")
    while True:
        match = pair.match(line, position)
        if match is None:
            return found
        found.append(match.group(1))
        position = match.end()


# What a run reports, and the units of the fixed fields (the rate's unit is
# the line's own rate_unit; a headline output's is in the catalogue).
SANITY = field("verified", "[01]")
RATE = field("rate")
RATE_UNIT = field("rate_unit")
TIME_MEDIAN = field("time_median")
HEADLINE_PREFIX = "out_"
