"""Writing the main job's JSON records (campaign.json, answer.json) as
valid JSON, whole or not at all.

Python's json writes NaN and Infinity, which are no JSON: jansson (parkit
report), jq and browsers refuse them. A figure that does not exist (a
working set that does not apply, an interval with too few rounds) is
written as null instead."""
import json
import math
import os

import numpy as np


def finite(document):
    """`document` with numpy scalars as Python numbers and every non-finite
    number as None, recursively."""
    if isinstance(document, dict):
        return {key: finite(value) for key, value in document.items()}
    if isinstance(document, (list, tuple)):
        return [finite(value) for value in document]
    if isinstance(document, np.generic):
        document = document.item()
    if isinstance(document, float) and not math.isfinite(document):
        return None
    return document


def write_json(document, path):
    """Writes `document` to `path` through a temporary beside it, so that a
    reader sees the old file or the new one, never a part."""
    with open(path + ".tmp", "w") as out:
        json.dump(finite(document), out, indent=1, allow_nan=False)
    os.replace(path + ".tmp", path)
