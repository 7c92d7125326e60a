"""Analysis of parkit result files: pandas tables, plots, an HTML report.

    import sys; sys.path.insert(0, "analysis")  # from the source directory
    from parkit_analysis import load_results, summary_table, write_report
"""
from .loader import Results, array_outputs, load_results, problem_text
from .summary import SUMMARY_COLUMNS, summary_table

__all__ = ["Results", "array_outputs", "load_results", "problem_text",
           "SUMMARY_COLUMNS", "summary_table", "write_report"]


def write_report(results, path, title, peak_gflops=None, peak_bandwidth=None,
                 answer=None):
    """Writes the HTML report (imports matplotlib only when called);
    `answer`: the main job's answer.json as a dict, for a campaign."""
    from .html_report import write_report as write
    return write(results, path, title, peak_gflops, peak_bandwidth, answer)
