"""One self-contained HTML page from a results tree: the machine's
provenance, the files that could not be read, the summary table (the same
numbers as `parkit report`), every figure as an embedded PNG, and a table
of every run.

The page checks itself when it loads: a script counts the figures that
decoded (img.complete and naturalWidth > 0) and every script error or
console.error, and writes the counts into the element #page-check
(attributes data-images, data-images-ok, data-errors) for headless tests.
"""
import base64
import datetime
import html
import io

import matplotlib.pyplot as plt
import pandas as pd

from .claims import figure_text
from .plots import all_figures, machine_label
from .summary import split_label, summary_table

PROVENANCE = [
    ("hosts", "hosts"), ("CPU model", "provenance_cpu_model"),
    ("nodes", "nodes"), ("parkit version", "parkit_version"),
    ("git commit", "provenance_git_commit"),
    ("compiler", "provenance_compiler"),
    ("compile flags", "provenance_compile_flags"),
    ("build type", "provenance_build_type"),
    ("MPI library", "provenance_mpi_library_version"),
    ("MPI thread level", "provenance_mpi_thread_level"),
    ("HDF5", "provenance_hdf5_version"),
    ("OpenMP", "provenance_openmp_version"),
]
RUN_COLUMNS = ["kernel", "problem", "mode", "ranks", "threads", "nodes",
               "repetitions", "time_median", "rate", "rate_unit",
               "imbalance", "verified", "peak_resident_bytes_total",
               "started_utc", "host", "file"]

STYLE = """
body { font-family: sans-serif; font-size: 15px; margin: 2em auto;
       max-width: 1150px; color: #111; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.8em;
     border-bottom: 1px solid #999; }
table { border-collapse: collapse; font-size: 13px; margin: 0.6em 0; }
th, td { border: 1px solid #bbb; padding: 3px 7px; text-align: left;
         vertical-align: top; }
th { background: #eee; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.2em 0; page-break-inside: avoid; }
figure img { max-width: 100%; border: 1px solid #ccc; }
figcaption { font-size: 13px; color: #333; }
.problem { color: #a00; }
#page-check { font-size: 12px; color: #555; }
.wide { overflow-x: auto; }
@media print { body { max-width: none; font-size: 11pt; }
               .wide { overflow-x: visible; } }
"""

CHECK_SCRIPT = """
var parkitErrors = [];
window.addEventListener('error', function (event) {
  parkitErrors.push(String(event.message || event.type));
}, true);
var parkitConsoleError = console.error;
console.error = function () {
  parkitErrors.push(Array.prototype.join.call(arguments, ' '));
  parkitConsoleError.apply(console, arguments);
};
window.addEventListener('load', function () {
  var images = document.querySelectorAll('img');
  var loaded = 0;
  images.forEach(function (img) {
    if (img.complete && img.naturalWidth > 0) { loaded += 1; }
  });
  var check = document.getElementById('page-check');
  check.setAttribute('data-images', String(images.length));
  check.setAttribute('data-images-ok', String(loaded));
  check.setAttribute('data-errors', String(parkitErrors.length));
  check.textContent = loaded + ' of ' + images.length +
      ' figures loaded; ' + parkitErrors.length + ' script errors.' +
      (parkitErrors.length ? ' ' + parkitErrors.join(' | ') : '');
});
"""


def _png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figures_html(results, table, peak_gflops, peak_bandwidth, answer=None):
    """Every figure as an embedded PNG; one that cannot be drawn (values no
    plot can take) becomes a line saying so, and the page goes on."""
    try:
        figures = all_figures(results, table, peak_gflops, peak_bandwidth,
                              answer)
    except Exception as error:  # the page matters more than one figure
        plt.close("all")
        return (f"<p class='problem'>The figures could not be drawn: "
                f"{html.escape(type(error).__name__)}: "
                f"{html.escape(str(error)[:500])}</p>")
    parts = []
    for index, (name, figure) in enumerate(figures, 1):
        try:
            image = _png(figure)
        except Exception as error:
            plt.close(figure)
            parts.append(f"<p class='problem'>Figure {index} "
                         f"({html.escape(name)}) could not be drawn: "
                         f"{html.escape(type(error).__name__)}: "
                         f"{html.escape(str(error)[:500])}</p>")
            continue
        parts.append(f"<figure><img alt='{html.escape(name)}' "
                     f"src='data:image/png;base64,{image}'>"
                     f"<figcaption>Figure {index}. {html.escape(name)}"
                     "</figcaption></figure>")
    return "".join(parts)


def _distinct(runs, column):
    if column not in runs:
        return "not recorded"
    values = [str(v) for v in dict.fromkeys(runs[column].dropna()) if v != ""]
    return "; ".join(values) if values else "not recorded"


def _provenance_table(runs):
    rows = "".join(f"<tr><th>{html.escape(label)}</th>"
                   f"<td>{html.escape(_distinct(runs, column))}</td></tr>"
                   for label, column in PROVENANCE)
    return f"<table>{rows}</table>"


def _problems(results):
    items = [f"<li class='problem'>skipped <code>{html.escape(path)}</code>: "
             f"{html.escape(reason)}</li>" for path, reason in results.skipped]
    items += [f"<li>unfinished run (not a result): <code>{html.escape(path)}"
              f"</code></li>" for path in results.unfinished]
    if not items:
        return "<p>Every result file was read.</p>"
    return f"<ul>{''.join(items)}</ul>"


def _number_table(frame, formats):
    """An HTML table; numbers right-aligned, formatted by column."""
    header = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for column in frame.columns:
            value = row[column]
            if column in formats and pd.notna(value):
                cells.append(f"<td class='number'>"
                             f"{formats[column](value)}</td>")
            else:
                text = "" if pd.isna(value) else str(value)
                cells.append(f"<td>{html.escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f"<div class='wide'><table><tr>{header}</tr>{''.join(body)}"
            "</table></div>")


def _summary_html(table):
    shown = table.copy()
    shown["split"] = [split_label(row) for _, row in shown.iterrows()]
    shown["verified"] = shown["verified"].map({1: "yes", 0: "NO"})
    shown["best"] = shown["best"].map({True: "*", False: ""})
    shown = shown[["kernel", "problem", "mode", "split", "time_median_s",
                   "spread", "rate", "rate_unit", "speedup", "efficiency",
                   "imbalance", "verified", "best"]]
    return _number_table(shown, {
        "time_median_s": lambda v: f"{v:.6g}",
        "spread": lambda v: f"{100 * v:.1f}%",
        "rate": lambda v: f"{v:.4g}",
        "speedup": lambda v: f"{v:.2f}×",
        "efficiency": lambda v: f"{100 * v:.0f}%",
        "imbalance": lambda v: f"{v:.3f}"})


def _runs_html(runs):
    columns = [c for c in RUN_COLUMNS if c in runs]
    shown = runs[columns].sort_values(["kernel", "problem", "mode", "ranks",
                                       "threads"])
    return _number_table(shown, {
        "time_median": lambda v: f"{v:.6g}", "rate": lambda v: f"{v:.4g}",
        "imbalance": lambda v: f"{v:.3f}",
        "peak_resident_bytes_total": lambda v: f"{v / 2**20:.1f} MiB"})


METHOD = """
<p>parkit follows Hoefler and Belli, <i>Scientific benchmarking of parallel
computing systems</i> (SC15), in what it measures and how it reports it:</p>
<ul>
<li><b>Base case.</b> Speedups are against the same problem on 1 rank
&times; 1 thread of the same build on the same machine, not against a
single run of a parallel mode.</li>
<li><b>Medians with nonparametric intervals.</b> A run's time is the median
of its timed repetitions, each timed by its slowest rank after a barrier;
the main job's samples are the per-launch medians of interleaved rounds, and
their 95% confidence interval of the median comes from order statistics
(binomial ranks; no normality assumed). Fewer than 6 samples give no
interval, and none is drawn.</li>
<li><b>No averaging of ratios.</b> A difference between modes is the ratio
of their medians, with a 95% interval from a seeded bootstrap over rounds;
a mode is called faster only when the whole interval lies beyond the
practical threshold (3%), equivalent when it lies within it, and otherwise
the verdict says it is inconclusive and what it would take.</li>
<li><b>Every varying factor recorded.</b> Each result file holds the
command line, the placement of every rank and thread, the hardware
(caches, NUMA nodes), compiler and flags, library versions, the
environment and what else used the CPUs while it ran (foreign load, wait
for a CPU, steal); the campaign record holds the seed, the sizes, the
order of every round and every launch.</li>
<li><b>Interference named.</b> Runs disturbed by a foreign load (more than
5% of a core) or whose workers waited for a CPU more than 5% of the time
decide nothing; the answer names them and the processes that were busy.</li>
<li><b>Upper bounds shown.</b> The roofline draws the machine's compute and
bandwidth ceilings (measured, or stated as assumed).</li>
<li><b>Intervals on every bar.</b> Bars carry whiskers: the 95% interval of
the median where there are enough samples, else the range, as each
caption says.</li>
</ul>
"""


def _answer_html(answer):
    """The main job's verdict, from its answer.json."""
    if not answer:
        return ("<p>These results are not a main-job campaign (no "
                "answer.json): no verdict; see the figures and the summary."
                "</p>")
    rows = "".join(
        f"<tr><td>{html.escape(g['kernel'])}</td>"
        f"<td>{html.escape(g['regime'])}</td>"
        f"<td>{html.escape(g['verdict'] or 'no measurement decides')}</td>"
        "</tr>" for g in answer["groups"])
    notes = []
    if answer["kind"] == "preview":
        notes.append("<p class='problem'>PREVIEW: one round, no intervals; "
                     "no winner is claimed.</p>")
    if answer.get("hybrid_note"):
        notes.append(f"<p>{html.escape(answer['hybrid_note'])}.</p>")
    disturbed = answer["disturbed_runs"]
    notes.append(f"<p>Interference: {len(disturbed)} of {answer['runs']} "
                 "runs disturbed" + (
                     f" ({html.escape(disturbed[0]['why'])})" if disturbed
                     else "") + "; disturbed runs decide nothing.</p>")
    return (f"<p>{answer['rounds']} rounds, {answer['runs']} runs, "
            f"{answer['elapsed_seconds']:.0f} s, stopped by "
            f"{html.escape(answer['stop_reason'])}; seed {answer['seed']}."
            "</p><table><tr><th>kernel</th><th>regime</th><th>verdict (95% "
            f"CI)</th></tr>{rows}</table>" + "".join(notes)
            + _claims_html(answer.get("claims")))


def _claims_html(claims):
    """The claims of the threads-vs-processes texts, each with the figures
    behind it (from the result files) and its outcome."""
    if not claims:
        return ""
    rows = []
    for claim in claims:
        figures = "<br>".join(
            f"{html.escape(f['label'])}: {html.escape(figure_text(f))}"
            for f in claim["figures"])
        rows.append(
            f"<tr><td>{claim['number']}</td>"
            f"<td>{html.escape(claim['claim'])}</td>"
            f"<td>{figures}</td>"
            f"<td><b>{html.escape(claim['outcome'])}</b>: "
            f"{html.escape(claim['because'])} "
            f"<i>({html.escape(claim['measured_by'])})</i></td></tr>")
    return ("<h3>The claims, measured on this machine</h3><p>What the usual "
            "texts on threads and processes claim, each with the "
            "measurement behind it: probes' medians, and the campaign's "
            "medians over rounds with 95% CIs of their ratios.</p>"
            "<div class='wide'><table><tr><th>#</th><th>claim</th>"
            "<th>measured</th><th>outcome</th></tr>" + "".join(rows)
            + "</table></div>")


def render(results, title, peak_gflops=None, peak_bandwidth=None,
           answer=None):
    """The page as one string; `answer`: the main job's answer.json (a
    dict) when the results are its campaign."""
    runs = results.runs
    table = summary_table(results)
    figure_html = _figures_html(results, table, peak_gflops, peak_bandwidth,
                                answer) if len(runs) else ""
    now = datetime.datetime.now(datetime.timezone.utc)
    machine = machine_label(runs) if len(runs) else "no runs"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{STYLE}</style>
<script>{CHECK_SCRIPT}</script>
</head><body>
<h1>{html.escape(title)}</h1>
<p>{len(runs)} runs on {html.escape(machine)}. Written
{now:%Y-%m-%d %H:%M} UTC by parkit-report.</p>
<p id="page-check">figures not checked yet (the page's script did not run)</p>
<h2>The answer</h2>
{_answer_html(answer)}
<h2>How it was measured</h2>
{METHOD}
<h2>Machine and build (provenance)</h2>
{_provenance_table(runs)}
<h2>Files</h2>
{_problems(results)}
<h2>Summary</h2>
<p>Time: median over repetitions, each timed by its slowest rank; spread:
(slowest &minus; fastest) / median. Speedup and efficiency against the
fastest 1 rank &times; 1 thread run of the same kernel and problem;
efficiency = speedup / cores. Imbalance: max / min over ranks of each rank's
total time. * marks the best split: the fastest verified run at the most
cores. <code>parkit report
--format csv</code> prints the same numbers.</p>
{_summary_html(table)}
<h2>Figures</h2>
{figure_html or "<p>No figures: no runs were read.</p>"}
<h2>Every run</h2>
{_runs_html(runs) if len(runs) else "<p>No runs.</p>"}
</body></html>
"""


def write_report(results, path, title, peak_gflops=None,
                 peak_bandwidth=None, answer=None):
    page = render(results, title, peak_gflops, peak_bandwidth, answer)
    with open(path, "w", encoding="utf-8") as output:
        output.write(page)
    return path
