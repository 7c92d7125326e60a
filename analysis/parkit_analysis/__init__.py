"""Analysis of parkit result files: pandas tables, plots, an HTML report.

    from parkit_analysis import load_results, summary_table, write_report

Installed, the package is where Debian's /usr/bin/python3 finds it (or on
the PYTHONPATH `module load parkit` sets); in a checkout, put `analysis/`
on PYTHONPATH. The names below are imported on first use, so modules that
need only the standard library (key_values: the PARKIT line) import
without h5py, numpy or pandas.
"""
import importlib

_EXPORTS = {
    "Results": "loader", "array_outputs": "loader", "load_results": "loader",
    "problem_text": "loader", "SUMMARY_COLUMNS": "summary",
    "summary_table": "summary",
}

__all__ = sorted(_EXPORTS) + ["write_report"]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__),
                       name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def write_report(results, path, title, peak_gflops=None, peak_bandwidth=None,
                 answer=None):
    """Writes the HTML report (imports matplotlib only when called);
    `answer`: the main job's answer.json as a dict, for a campaign."""
    from .html_report import write_report as write
    return write(results, path, title, peak_gflops, peak_bandwidth, answer)
