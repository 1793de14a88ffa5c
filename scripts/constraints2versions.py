"""Write buildout's versions.cfg from the pip constraints: one set of pins.

python scripts/constraints2versions.py constraints.txt > versions.cfg
"""

import re
import sys


PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def versions(lines):
    yield "# Generated from constraints.txt by `make versions.cfg`: do not edit."
    yield "[versions]"
    for line in lines:
        match = PIN.match(line.strip())
        if match and match.group(1).lower() != "collective.crontab":
            yield "{} = {}".format(*match.groups())


if __name__ == "__main__":
    with open(sys.argv[1]) as constraints:
        print("\n".join(versions(constraints)))
