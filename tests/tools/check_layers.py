#!/usr/bin/env python3
"""Checks that every #include of the project's own headers follows the folder libraries.

Each folder of runner/ and sandbox/ is one static library that names the libraries it may
use (CMakeLists.txt, safeinstall_folder_library; the list is written to layers.txt at
configure time). A source file may include headers of its own folder and of the folders its
library uses, directly or through them; anything else is a layering error, printed with the
file and line, and the check fails.

usage: check_layers.py LAYERS_TXT SOURCE_ROOT
"""
import os
import re
import sys

# Executables that link whatever they need: they sit on top of every folder.
TOP = {"runner/main.cpp"}
TOP_FOLDERS = ("sandbox/seccomp/tools/",)
INCLUDE = re.compile(r'^\s*#\s*include\s+"((?:runner|sandbox)/[^"]+)"')


def read_layers(path):
    owner, uses = {}, {}
    with open(path) as layers:
        for line in layers:
            fields = line.split()
            if not fields:
                continue
            target, folders = fields[0], fields[1].split(",")
            uses[target] = set(fields[2].split(",")) if len(fields) > 2 else set()
            for folder in folders:
                owner[folder] = target
    return owner, uses


def closure(uses):
    reach = {}
    for target in uses:
        seen, pending = set(), [target]
        while pending:
            for used in uses.get(pending.pop(), ()):
                if used not in seen:
                    seen.add(used)
                    pending.append(used)
        reach[target] = seen | {target}
    return reach


def main():
    layers_txt, root = sys.argv[1], sys.argv[2]
    owner, uses = read_layers(layers_txt)
    reach = closure(uses)
    errors = []
    for top in ("runner", "sandbox"):
        for folder, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if not name.endswith((".h", ".cpp")):
                    continue
                rel = os.path.relpath(os.path.join(folder, name), root)
                if rel in TOP or rel.startswith(TOP_FOLDERS):
                    continue
                here = owner.get(os.path.dirname(rel))
                if here is None:
                    errors.append(f"{rel}: its folder is no library's (CMakeLists.txt)")
                    continue
                with open(os.path.join(root, rel)) as source:
                    for number, line in enumerate(source, 1):
                        match = INCLUDE.match(line)
                        if not match:
                            continue
                        included = match.group(1)
                        there = owner.get(os.path.dirname(included))
                        if there is None:
                            errors.append(f"{rel}:{number}: includes {included}, "
                                          "which is in no library's folder")
                        elif there not in reach[here]:
                            errors.append(f"{rel}:{number}: includes {included} of {there}, "
                                          f"which {here} does not use")
    for error in errors:
        print(error)
    print(f"{len(owner)} folders, {len(uses)} libraries: "
          f"{'ok' if not errors else str(len(errors)) + ' layering error(s)'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
