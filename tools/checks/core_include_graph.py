#!/usr/bin/env python3
"""Prints the include graph between core/ modules and fails on a cycle or on an include against
the layer order that DESIGN.md states (a module may include only modules before it)."""
import pathlib
import re
import sys

# Keep in step with DESIGN.md's "Folders" section.
ORDER = ["tensor", "io", "quant", "kernels", "calib", "metrics", "analysis", "export", "interop", "model", "samples"]

root = pathlib.Path(__file__).resolve().parents[2] / "core"
include = re.compile(r'#include\s+"(?:quantscope/)?([a-z]+)/')


def module_of(path: pathlib.Path) -> str | None:
    parts = path.relative_to(root).parts
    if parts[0] == "include" and len(parts) > 3:
        return parts[2]
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    return None


edges: dict[tuple[str, str], list[str]] = {}
for path in sorted(list(root.rglob("*.h")) + list(root.rglob("*.cpp"))):
    source = module_of(path)
    if source is None:
        continue
    for line in path.read_text(encoding="utf-8").splitlines():
        match = include.match(line.strip())
        if match and match.group(1) not in (source, "quantscope"):
            edges.setdefault((source, match.group(1)), []).append(str(path.relative_to(root)))

modules = sorted({m for edge in edges for m in edge}, key=lambda m: ORDER.index(m) if m in ORDER else len(ORDER))
print("core module includes (module -> modules it includes):")
for module in modules:
    targets = sorted({b for (a, b) in edges if a == module}, key=lambda m: ORDER.index(m) if m in ORDER else 99)
    print(f"  {module:9} -> {', '.join(targets) if targets else '(nothing)'}")

problems = []
unknown = sorted(m for m in modules if m not in ORDER)
if unknown:
    problems.append(f"modules missing from the layer order: {', '.join(unknown)}")

# A cycle, found by depth-first search over the module graph.
graph = {m: sorted({b for (a, b) in edges if a == m}) for m in modules}
state: dict[str, int] = {}
stack: list[str] = []


def visit(node: str) -> None:
    state[node] = 1
    stack.append(node)
    for nxt in graph.get(node, []):
        if state.get(nxt) == 1:
            cycle = stack[stack.index(nxt):] + [nxt]
            problems.append("cycle: " + " -> ".join(cycle))
        elif nxt not in state:
            visit(nxt)
    stack.pop()
    state[node] = 2


for module in modules:
    if module not in state:
        visit(module)

for (a, b), files in sorted(edges.items()):
    if a in ORDER and b in ORDER and ORDER.index(b) > ORDER.index(a):
        problems.append(f"{a} includes {b}, which comes after it in the layer order ({files[0]})")

print("layer order: " + " -> ".join(ORDER))
if problems:
    print("\n".join("error: " + p for p in problems), file=sys.stderr)
    sys.exit(1)
print("no cycles, every include follows the layer order")
