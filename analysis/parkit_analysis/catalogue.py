"""What the kernels' descriptors declare, read through
`parkit list --format json` (layout: results/README.md, "The catalogue"),
and the tables of results/README.md that are generated from it.

    catalogue = load_catalogue("build/parkit")
    kernel = kernel_entry(catalogue, "stream")
    condition_holds(output["when"], attrs, outputs)   # recorded in this run?

Regenerate the tables after changing a descriptor:

    /usr/bin/python3 -m parkit_analysis.catalogue --parkit build/parkit \\
        --write results/README.md          (from analysis/)
"""
import argparse
import json
import os
import re
import subprocess
import sys

BEGIN = "<!-- generated from the kernels' descriptors: parkit_analysis/catalogue.py -->"
END = "<!-- end of generated tables -->"


def load_catalogue(parkit):
    """The catalogue of the parkit program `parkit` (a path)."""
    listed = subprocess.run([parkit, "list", "--format", "json"],
                            capture_output=True, text=True, check=True)
    return json.loads(listed.stdout)


def kernel_entry(catalogue, name):
    for kernel in catalogue["kernels"]:
        if kernel["name"] == name:
            return kernel
    raise KeyError(f"no kernel {name!r} in the catalogue")


def _term_holds(term, attrs, outputs):
    """One term of a `when` condition (kernel.h: "NAME", "!NAME",
    "NAME=VALUE", "NAME!=VALUE", "NAME>NUMBER") against a run's root
    attributes (the launch, every option) and its outputs. None for
    "optional"."""
    if term == "optional":
        return None
    negated = term.startswith("!") and "=" not in term
    match = re.fullmatch(r"!?([a-z_0-9]+)(!=|=|>)?(.*)", term)
    if match is None:
        raise ValueError(f"malformed condition term {term!r}")
    name, relation, operand = match.groups()
    if name in attrs:
        value = attrs[name]
    elif name in outputs:
        value = outputs[name]
    else:
        raise KeyError(f"condition names {name!r}, which the run lacks")
    value = value.decode() if isinstance(value, bytes) else value
    if relation == "=":
        return str(value) == operand
    if relation == "!=":
        return str(value) != operand
    if relation == ">":
        return float(value) > float(operand)
    return (not value) if negated else bool(value)


def condition_holds(when, attrs, outputs):
    """True, False, or None ("optional") for an output's `when` condition
    in a run with root attributes `attrs` and output values `outputs`."""
    if when is None:
        return True
    result = True
    for term in when.split(" and "):
        holds = _term_holds(term, attrs, outputs)
        if holds is False:
            return False
        if holds is None:
            result = None
    return result


def _cell(text):
    return "" if text is None else str(text).replace("|", "\\|")


AGREEMENT = {"bitwise": "bitwise", "tolerance": "within `{tolerance}` x {scale}",
             "differs": "not compared", "measured": "measured"}


HEADLINE = {None: "", "value": "`out_{name}`", "first": "`out_{name}` (first)",
            "last": "`out_{name}` (last)"}


def outputs_table(catalogue):
    """The markdown table of every kernel's outputs."""
    lines = ["| kernel | output | unit | shape | splits agree | recorded when | key=value line | meaning |",
             "|---|---|---|---|---|---|---|---|"]
    for kernel in catalogue["kernels"]:
        for output in kernel["outputs"]:
            agreement = AGREEMENT[output["agreement"]].format(
                tolerance=output["tolerance"],
                scale=f"`{output['scale']}`" if output["scale"] else "|x|")
            lines.append(
                f"| {kernel['name']} | {output['name']} | {output['unit']} | "
                f"{_cell(output['shape']) or 'scalar'} | {agreement} | "
                f"{_cell(output['when']) or 'always'} | "
                f"{HEADLINE[output.get('headline')].format(name=output['name'])} | "
                f"{_cell(output['description'])} |")
    return "\n".join(lines)


def _per_kernel_table(catalogue, header, entries, cells):
    """A markdown table: `header` (column names), then one row per entry of
    each kernel's list `entries`, `cells(entry)` giving the cells after the
    kernel's name."""
    lines = ["| kernel | " + " | ".join(header) + " |",
             "|---" * (len(header) + 1) + "|"]
    for kernel in catalogue["kernels"]:
        for entry in kernel[entries]:
            lines.append(f"| {kernel['name']} | "
                         + " | ".join(cells(entry)) + " |")
    return "\n".join(lines)


def rate_units_table(catalogue):
    """The markdown table of every kernel's rate unit."""
    return _per_kernel_table(
        catalogue, ["rate unit", "when"], "rate_units",
        lambda unit: [unit["unit"], _cell(unit["when"]) or "always"])


def phases_table(catalogue):
    """The markdown table of every kernel's phases."""
    return _per_kernel_table(
        catalogue, ["phase", "meaning"], "phases",
        lambda phase: [phase["name"], _cell(phase["description"])])


def generated_text(catalogue):
    """What results/README.md holds between BEGIN and END."""
    return "\n".join([
        BEGIN, "", "### Kernel outputs", "", outputs_table(catalogue), "",
        "### Rate units", "", rate_units_table(catalogue), "",
        "### Kernel phases", "", phases_table(catalogue), "", END])


def generated_region(readme_text):
    """The text between (and including) BEGIN and END in a README."""
    start = readme_text.index(BEGIN)
    return readme_text[start:readme_text.index(END, start) + len(END)]


def main(argv):
    parser = argparse.ArgumentParser(
        prog="parkit_analysis.catalogue",
        description="Print (or write into results/README.md) the tables "
                    "generated from the kernels' descriptors.")
    parser.add_argument("--parkit", required=True, help="the parkit program")
    parser.add_argument("--write", metavar="README",
                        help="replace the generated region of this file")
    arguments = parser.parse_args(argv)
    text = generated_text(load_catalogue(arguments.parkit))
    if not arguments.write:
        print(text)
        return 0
    with open(arguments.write, encoding="utf-8") as readme:
        old = readme.read()
    new = old.replace(generated_region(old), text)
    if new != old:
        temporary = arguments.write + ".new"
        with open(temporary, "w", encoding="utf-8") as readme:
            readme.write(new)
        os.replace(temporary, arguments.write)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
