"""The statistics behind parkit's verdict, written once: whatever shows an
interval or a verdict (the verdict, the HTML report, the pandas summary) takes
it from here, so they all show the same numbers. Method after Hoefler &
Belli, "Scientific benchmarking of parallel computing systems" (SC15):
medians with nonparametric intervals, ratios of medians (never averages of
ratios), and no interval where there are too few samples for one. numpy
only.

A *sample* is one round's measurement of one configuration (a mode and a
split, e.g. ("ranks", "2x1")): the campaign launches every configuration once
per round, in shuffled order, so samples of one configuration are independent
launches and the i-th samples of two configurations share round i.

Definitions (README quotes them):

Median CI (`median_ci`). For n samples sorted x_(1) <= ... <= x_(n), the CI is
    [x_(j), x_(n+1-j)], j the largest rank with coverage >= confidence, where
    coverage = P(j <= B <= n-j), B ~ Binomial(n, 1/2)
             = 1 - 2 * sum_{i<j} C(n, i) / 2^n      (exact; no normality).
    At 95% n = 6 is the least with a CI ([x_(1), x_(6)], coverage 62/64); for
    fewer samples low and high are None and `needs` says how many it takes.
    Exact in integers up to n = 10000, in floating point above (the same
    sums; rounding ~1e-12). Hoefler & Belli's normal approximation,
    j = floor((n - 1.96 sqrt(n)) / 2), k = ceil(1 + (n + 1.96 sqrt(n)) / 2),
    gives the same ranks or one rank wider.
Relative half-width (`relative_half_width`): max(high - median, median - low)
    / |median|; the campaign's stopping rule is "<= 0.02 for every
    configuration" (+-2%). Infinite without a CI.
Ratio CI (`ratio_ci`): CI of R = median(a) / median(b), a percentile bootstrap
    of the ratio of medians: `resamples` times, draw len(a) rounds of a and
    len(b) rounds of b with replacement, take the ratio of the two medians;
    the CI is [r_(k+1), r_(B-k)] of the sorted resampled ratios r, k =
    floor(B (1 - confidence) / 2). Paired (the same rounds drawn for a and b,
    when a[i] and b[i] come from round i) or independent; see `ratio_ci`.
    Seeded: bit streams numpy.random.PCG64(seed) (for a, and for both when
    paired) and PCG64(seed).jumped() (for b), each 64-bit word w giving the
    index ((w >> 32) * n) >> 32, resample by resample, so the bounds depend
    only on the data, the seed and PCG64's output, which is fixed.
Difference (`difference`): d = median(b) / median(a) - 1 = 1/R - 1, how much
    longer b takes than a; "a faster than b by 12%" means d = 0.12. Its CI is
    [1/high - 1, 1/low - 1].
Outcome (`compare`), with practical threshold t (default 0.03) and the ratio
    CI [low, high] of time(a) / time(b):
      FASTER      a faster than b: high < 1/(1+t), i.e. the whole CI of d > t;
      SLOWER      b faster than a: low > 1+t;
      EQUIVALENT  1/(1+t) <= low and high <= 1+t: neither is faster by t;
      INCONCLUSIVE otherwise, with what it would take (below).
    The band [1/(1+t), 1+t] is symmetric in log scale, so swapping a and b
    swaps FASTER and SLOWER and nothing else; in terms of d, EQUIVALENT
    means the CI of d lies in [-2.91%, +3%] for t = 3%.
What it would take (INCONCLUSIVE): with too few rounds, the rounds needed
    for a CI. Otherwise, on the log scale with estimate m = log R, half-width
    h = max(m - log low, log high - m) and margin b = log(1+t), the distance
    to the nearest decision is delta = |b - |m||; assuming the CI shrinks as
    1/sqrt(rounds), about n (h/delta)^2 rounds settle it (n = the fewer
    rounds of a and b). When the CI excludes 1 but straddles the threshold,
    the advice says the difference sits near the threshold.
Verdict (`verdict`), per kernel and regime: each mode's best split is the one
    with the lowest median; the best mode is the mode whose best split has
    the lowest median; it is compared with each other mode's best split
    (ratio CI of best / other). One line joins the outcomes:
      the best and the modes EQUIVALENT to it, as "A = B = C within 3%
      (95% CI lo..hi%)", the CI being the envelope of the CIs of d over the
      equivalent modes (each against the best);
      the modes the best is FASTER than, as "A faster than B by d (95% CI
      lo-hi%), than C by ...";
      INCONCLUSIVE ones, as "A vs B inconclusive, +d% (95% CI lo..hi%): what
      it would take" (and SLOWER, where the CI contradicts the medians that
      chose the best, as "A vs B slower, d% (95% CI lo..hi%)").
    e.g. "stencil  memory  ranks 2x1 faster than threads 1x2 by 12% (95% CI
    9-15%)". Percentages: 0 decimals from 10% up, else 1, the CI with the
    same decimals as its d; the within-threshold CI signed, 1 decimal. The
    best split of a mode is chosen on the same data that the CI uses; with a
    few splits per mode that selection is not corrected for.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

DEFAULT_CONFIDENCE = 0.95
DEFAULT_THRESHOLD = 0.03
DEFAULT_RESAMPLES = 10_000
DEFAULT_SEED = 0
# Largest n whose ranks are computed in integers (about 0.05 s at 10000).
EXACT_RANKS_UP_TO = 10_000
# Bootstrap resamples per block: bounds memory to a few MiB whatever n is.
_BLOCK_VALUES = 1 << 19


def _check_confidence(confidence):
    if not 0 < confidence < 1:
        raise ValueError(f"confidence {confidence!r} is not between 0 and 1 "
                         "(e.g. 0.95)")


def _samples(values, name, positive=False):
    """values as a 1-D float array, refusing what the statistics cannot
    use."""
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name}: needs a non-empty 1-D sequence of "
                         f"numbers, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: {int(np.sum(~np.isfinite(array)))} "
                         "non-finite values; pass measured values only")
    if positive and not np.all(array > 0):
        raise ValueError(f"{name}: times must be > 0, smallest is "
                         f"{array.min()!r}")
    return array


# ---- median and its confidence interval ------------------------------------

@lru_cache(maxsize=4096)
def median_ranks(n, confidence=DEFAULT_CONFIDENCE):
    """(j, k, coverage): 1-based ranks of the order statistics that bound
    the CI of the median of n samples, k = n + 1 - j, and the coverage
    P(j <= B <= n - j), B ~ Binomial(n, 1/2). None when n is too small for
    any interval to reach `confidence`."""
    _check_confidence(confidence)
    if n < 1:
        return None
    if n > EXACT_RANKS_UP_TO:
        return _float_ranks(n, confidence)
    # Exact in integers: the largest j with 2 * sum_{i<j} C(n,i) * q
    # <= p * 2^n, where p/q = 1 - confidence exactly.
    miss = 1 - Fraction(confidence)
    limit = miss.numerator << n
    tail, term, j = 0, 1, 0  # tail = sum_{i<j} C(n, i); term = C(n, j)
    while 2 * (tail + term) * miss.denominator <= limit:
        tail += term
        term = term * (n - j) // (j + 1)
        j += 1
    if j == 0:
        return None
    return j, n + 1 - j, float(1 - Fraction(2 * tail, 1 << n))


def _float_ranks(n, confidence):
    """median_ranks for large n in floating point: log C(n, i) as a running
    sum, the tail by log-sum-exp; exact up to rounding (~1e-12)."""
    i = np.arange(1, n // 2 + 1)
    log_choose = np.concatenate(([0.0], np.cumsum(np.log((n - i + 1) / i))))
    log_tail = np.logaddexp.accumulate(log_choose - n * math.log(2))
    # log_tail[j - 1] = log P(B < j); j = how many tails are small enough.
    j = int(np.count_nonzero(np.log(2) + log_tail <= math.log1p(-confidence)))
    if j == 0:
        return None
    return j, n + 1 - j, float(1 - 2 * np.exp(log_tail[j - 1]))


def min_samples(confidence=DEFAULT_CONFIDENCE):
    """The fewest samples that have a CI of the median (6 at 95%, 8 at
    99%)."""
    n = 1
    while median_ranks(n, confidence) is None:
        n += 1
    return n


@dataclass(frozen=True)
class MedianCI:
    """The median of n samples and its CI [low, high] = [x_(lower_rank),
    x_(upper_rank)] (1-based ranks in the sorted samples) with exact
    binomial `coverage`. low, high, the ranks and coverage are None when n
    < min_samples (see `needs`)."""
    median: float
    low: float | None = None
    high: float | None = None
    n: int = 0
    lower_rank: int | None = None
    upper_rank: int | None = None
    coverage: float | None = None
    confidence: float = DEFAULT_CONFIDENCE
    min_samples: int = 6

    @property
    def has_interval(self):
        return self.low is not None

    @property
    def needs(self):
        """'' with an interval, else what it takes to have one."""
        if self.has_interval:
            return ""
        return (f"needs at least {self.min_samples} samples for a "
                f"{self.confidence:.0%} CI (has {self.n})")


def median_ci(samples, confidence=DEFAULT_CONFIDENCE):
    """The median of `samples` and its nonparametric CI from order
    statistics (module docstring: Median CI)."""
    values = np.sort(_samples(samples, "samples"))
    n = values.size
    ranks = median_ranks(n, confidence)
    fewest = min_samples(confidence)
    median = float((values[(n - 1) // 2] + values[n // 2]) / 2)
    if ranks is None:
        return MedianCI(median, n=n, confidence=confidence,
                        min_samples=fewest)
    j, k, coverage = ranks
    return MedianCI(median, float(values[j - 1]), float(values[k - 1]), n,
                    j, k, coverage, confidence, fewest)


def relative_half_width(ci):
    """The larger side of the CI over its centre, for a MedianCI (about
    the median) or a RatioCI (about the ratio); math.inf without a CI."""
    centre = ci.median if isinstance(ci, MedianCI) else ci.ratio
    if ci.low is None or centre == 0:
        return math.inf
    return max(ci.high - centre, centre - ci.low) / abs(centre)


def rounds_to_target(ci, target):
    """Estimated rounds in all for relative_half_width(ci) <= target,
    assuming the width shrinks as 1/sqrt(n); never fewer than n or than the
    minimum for a CI."""
    if ci.low is None:
        return ci.min_samples
    width = relative_half_width(ci)
    if width <= target:
        return ci.n
    return max(ci.n + 1, math.ceil(ci.n * (width / target) ** 2))


# ---- ratio of two medians --------------------------------------------------

@dataclass(frozen=True)
class RatioCI:
    """R = median(a) / median(b) and its bootstrap CI [low, high] (None when
    a or b has fewer than min_samples rounds)."""
    ratio: float
    low: float | None
    high: float | None
    n_a: int
    n_b: int
    paired: bool
    confidence: float
    resamples: int
    seed: int
    min_samples: int


def _resample_indices(bits, rows, n):
    """rows x n indices in [0, n) from the next rows * n words of `bits`:
    index = ((word >> 32) * n) >> 32 (bias below n / 2^32)."""
    words = bits.random_raw(rows * n).reshape(rows, n)
    words >>= np.uint64(32)
    words *= np.uint64(n)
    words >>= np.uint64(32)
    return words.view(np.int64)


def _resampled_medians(values, index):
    """The median of values[index[r]] for each row r. Works on ranks (the
    median of the values is the value at the median rank), which is the same
    number as np.median(values[index], axis=1), at half its cost."""
    order = np.argsort(values, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(values.size)
    ordered = values[order]
    ranks = rank[index]
    half = values.size // 2
    if values.size % 2:
        return ordered[np.partition(ranks, half, axis=1)[:, half]]
    middle = np.partition(ranks, (half - 1, half), axis=1)
    return (ordered[middle[:, half - 1]] + ordered[middle[:, half]]) / 2


def bootstrap_ratios(a, b, resamples, seed, paired):
    """The `resamples` resampled median(a*) / median(b*), in draw order
    (module docstring: Ratio CI, for the streams and index rule)."""
    bits_a = np.random.PCG64(seed)
    bits_b = bits_a.jumped()  # a copy advanced by 2^127 draws
    rows = max(1, _BLOCK_VALUES // max(a.size, b.size))
    ratios = np.empty(resamples)
    for start in range(0, resamples, rows):
        count = min(rows, resamples - start)
        index_a = _resample_indices(bits_a, count, a.size)
        index_b = index_a if paired else \
            _resample_indices(bits_b, count, b.size)
        ratios[start:start + count] = (_resampled_medians(a, index_a)
                                       / _resampled_medians(b, index_b))
    return ratios


def ratio_ci(samples_a, samples_b, confidence=DEFAULT_CONFIDENCE,
             resamples=DEFAULT_RESAMPLES, seed=DEFAULT_SEED, paired=False):
    """CI of median(a) / median(b) (times, > 0) by a seeded percentile
    bootstrap over rounds.

    paired=True: a[i] and b[i] were measured in the same round i (the
    campaign's interleaved rounds); each resample draws the same rounds for
    both, which keeps what a round shares (machine state, other users), so
    the CI is narrower when whole rounds run faster or slower, and it stays
    valid when they do not. paired=False: each configuration's rounds are
    drawn independently, for samples not aligned by round (different
    counts, separate runs).

    Percentile, not BCa: BCa's acceleration comes from the jackknife, which
    is inconsistent for the median, and its bias correction jumps with the
    median's discrete bootstrap distribution; the percentile interval needs
    neither, and it respects the transformation (the CI of median(b) /
    median(a) is [1/high, 1/low] exactly when paired). Its coverage for
    campaign-sized samples is checked by simulation in
    tests/python/test_statistics.py."""
    _check_confidence(confidence)
    a = _samples(samples_a, "samples_a", positive=True)
    b = _samples(samples_b, "samples_b", positive=True)
    if paired and a.size != b.size:
        raise ValueError(f"paired needs one sample of a and b per round; "
                         f"got {a.size} and {b.size}")
    if resamples < 100:
        raise ValueError(f"resamples {resamples} is below 100 (default "
                         f"{DEFAULT_RESAMPLES})")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed {seed!r} is not an integer >= 0")
    fewest = min_samples(confidence)
    ratio = float(np.median(a) / np.median(b))
    low = high = None
    if min(a.size, b.size) >= fewest:
        ratios = np.sort(bootstrap_ratios(a, b, resamples, seed, paired))
        k = math.floor(resamples * (1 - confidence) / 2 + 1e-9)
        low, high = float(ratios[k]), float(ratios[resamples - 1 - k])
    return RatioCI(ratio, low, high, int(a.size), int(b.size), paired,
                   confidence, resamples, int(seed), fewest)


def difference(ci):
    """(d, low, high): d = median(b) / median(a) - 1, how much longer b takes
    than a, and its CI (low, high None without one)."""
    point = 1 / ci.ratio - 1
    if ci.low is None:
        return point, None, None
    return point, 1 / ci.high - 1, 1 / ci.low - 1


# ---- three-way comparison --------------------------------------------------

class Outcome(enum.Enum):
    FASTER = "faster"              # a faster than b by more than the threshold
    SLOWER = "slower"              # b faster than a by more than the threshold
    EQUIVALENT = "equivalent"      # neither faster by the threshold
    INCONCLUSIVE = "inconclusive"  # the CI does not decide


@dataclass(frozen=True)
class Comparison:
    """The outcome for a against b, the ratio CI it came from, and for
    INCONCLUSIVE the rounds (per configuration, in all) that would likely
    settle it (None when more rounds will hardly help) and advice text."""
    outcome: Outcome
    ci: RatioCI
    threshold: float
    rounds_needed: int | None = None
    advice: str = ""


# More than this many times the rounds now: "more rounds will hardly help".
_HOPELESS_FACTOR = 100


def compare(ci, threshold=DEFAULT_THRESHOLD):
    """Faster, slower, equivalent or inconclusive (module docstring:
    Outcome, What it would take)."""
    if not 0 < threshold < 1:
        raise ValueError(f"threshold {threshold!r} is not between 0 and 1 "
                         "(e.g. 0.03 for 3%)")
    rounds = min(ci.n_a, ci.n_b)
    if ci.low is None:
        return Comparison(Outcome.INCONCLUSIVE, ci, threshold,
                          ci.min_samples,
                          f"needs at least {ci.min_samples} rounds of each "
                          f"for a {ci.confidence:.0%} CI (has {rounds})")
    upper, lower = 1 + threshold, 1 / (1 + threshold)
    if ci.high < lower:
        return Comparison(Outcome.FASTER, ci, threshold)
    if ci.low > upper:
        return Comparison(Outcome.SLOWER, ci, threshold)
    if lower <= ci.low and ci.high <= upper:
        return Comparison(Outcome.EQUIVALENT, ci, threshold)
    estimate, margin = math.log(ci.ratio), math.log(upper)
    half_width = max(estimate - math.log(ci.low),
                     math.log(ci.high) - estimate)
    distance = abs(margin - abs(estimate))
    near = ci.low > 1 or ci.high < 1  # a real difference, at the threshold
    threshold_text = f"{100 * threshold:g}%"
    if distance * math.sqrt(_HOPELESS_FACTOR) <= half_width:
        return Comparison(Outcome.INCONCLUSIVE, ci, threshold, None,
                          f"the difference sits at the {threshold_text} "
                          "threshold; more rounds will hardly settle it")
    needed = max(rounds + 1, math.ceil(rounds * (half_width / distance) ** 2))
    if near:
        advice = (f"a real difference near the {threshold_text} threshold; "
                  f"about {needed} rounds (now {rounds}) to tell which side")
    elif abs(estimate) < margin:
        advice = (f"about {needed} rounds (now {rounds}) would likely show "
                  f"them within {threshold_text}")
    else:
        advice = (f"about {needed} rounds (now {rounds}) would likely show "
                  f"a difference beyond {threshold_text}")
    return Comparison(Outcome.INCONCLUSIVE, ci, threshold, needed, advice)


# ---- verdict per kernel and regime -----------------------------------------

@dataclass(frozen=True)
class ModeComparison:
    """The best configuration against another mode's best split:
    comparison.ci is the CI of time(best) / time(other)."""
    best: tuple
    other: tuple
    comparison: Comparison


@dataclass(frozen=True)
class Verdict:
    """medians: MedianCI per configuration (mode, split) with samples;
    best_per_mode: mode -> its best configuration; best: the best of those;
    comparisons: best against each other mode's best, fastest first."""
    medians: dict
    best_per_mode: dict
    best: tuple
    comparisons: tuple
    threshold: float
    confidence: float

    def text(self):
        """The verdict without kernel and regime (module docstring:
        Verdict)."""
        return _verdict_text(self)


def _finite_rounds(values):
    array = np.asarray(values, dtype=float)
    return array[np.isfinite(array)], np.isfinite(array)


def verdict(samples, threshold=DEFAULT_THRESHOLD,
            confidence=DEFAULT_CONFIDENCE, resamples=DEFAULT_RESAMPLES,
            seed=DEFAULT_SEED):
    """The verdict for one kernel and regime.

    samples: {(mode, split): times in s}, the i-th time from round i, NaN
    for a round in which that configuration gave no measurement. Two
    configurations are compared paired when they have measurements in the
    same rounds, independently otherwise. Configurations without any
    measurement are left out."""
    measured = {}
    for config, values in samples.items():
        finite, mask = _finite_rounds(values)
        if finite.size:
            measured[config] = (finite, mask)
    if not measured:
        raise ValueError("verdict: no configuration has a measurement")
    medians = {config: median_ci(finite, confidence)
               for config, (finite, _) in measured.items()}
    best_per_mode = {}
    for config in sorted(medians, key=lambda c: medians[c].median):
        best_per_mode.setdefault(config[0], config)
    best = min(best_per_mode.values(), key=lambda c: medians[c].median)
    comparisons = []
    for other in sorted(best_per_mode.values(),
                        key=lambda c: medians[c].median):
        if other == best:
            continue
        (a, mask_a), (b, mask_b) = measured[best], measured[other]
        paired = mask_a.shape == mask_b.shape and bool(
            np.array_equal(mask_a, mask_b))
        ci = ratio_ci(a, b, confidence, resamples, seed, paired)
        comparisons.append(ModeComparison(best, other,
                                          compare(ci, threshold)))
    return Verdict(medians, best_per_mode, best, tuple(comparisons),
                   threshold, confidence)


def _label(config):
    return " ".join(str(part) for part in config)


def _percent(value, decimals, signed):
    text = f"{100 * value:{'+' if signed else ''}.{decimals}f}"
    if float(text) == 0:
        text = text.replace("-", "+" if signed else "")
    return text


def _decimals(value):
    return 0 if abs(value) >= 0.1 else 1


def _signed_range(low, high, decimals):
    return (f"{_percent(low, decimals, True)}.."
            f"{_percent(high, decimals, True)}%")


def _faster_clause(faster, slower_ones, confidence):
    """'A faster than B by d (95% CI lo-hi%), than C by ...'; slower_ones:
    [(label, (d, low, high))]."""
    parts = []
    for label, (point, low, high) in slower_ones:
        digits = _decimals(point)
        parts.append(f"than {label} by {_percent(point, digits, False)}% "
                     f"({confidence:.0%} CI {_percent(low, digits, False)}-"
                     f"{_percent(high, digits, False)}%)")
    return f"{faster} faster " + ", ".join(parts)


def _verdict_text(result):
    best = _label(result.best)
    level = f"{result.confidence:.0%} CI"
    threshold_text = f"{100 * result.threshold:g}%"
    if not result.comparisons:
        return f"only {best} has measurements that count: no comparison"
    by_outcome = {outcome: [] for outcome in Outcome}
    for entry in result.comparisons:
        by_outcome[entry.comparison.outcome].append(entry)
    clauses = []
    equivalent = by_outcome[Outcome.EQUIVALENT]
    if equivalent:
        ranges = [difference(e.comparison.ci) for e in equivalent]
        low = min(r[1] for r in ranges)
        high = max(r[2] for r in ranges)
        names = " = ".join([best] + [_label(e.other) for e in equivalent])
        clauses.append(f"{names} within {threshold_text} "
                       f"({level} {_signed_range(low, high, 1)})")
    if by_outcome[Outcome.FASTER]:
        clauses.append(_faster_clause(
            best, [(_label(e.other), difference(e.comparison.ci))
                   for e in by_outcome[Outcome.FASTER]], result.confidence))
    # SLOWER (the CI against the medians, which chose the best) reads as
    # its figures say, like INCONCLUSIVE.
    undecided = by_outcome[Outcome.SLOWER] + by_outcome[Outcome.INCONCLUSIVE]
    for entry in undecided:
        point, low, high = difference(entry.comparison.ci)
        digits = _decimals(point)
        clause = (f"{best} vs {_label(entry.other)} "
                  f"{entry.comparison.outcome.value}, "
                  f"{_percent(point, digits, True)}%")
        if low is not None:
            clause += f" ({level} {_signed_range(low, high, digits)})"
        if entry.comparison.advice:
            clause += f": {entry.comparison.advice}"
        clauses.append(clause)
    return "; ".join(clauses)


def verdict_line(kernel, regime, result):
    """'kernel  regime  <verdict text>', e.g. 'stencil  memory  ranks 2x1
    faster than threads 1x2 by 12% (95% CI 9-15%)'."""
    return f"{kernel}  {regime}  {result.text()}"


# ---- stopping rule for the campaign ----------------------------------------

def needing_rounds(samples, target=0.02, confidence=DEFAULT_CONFIDENCE):
    """{configuration: estimated measurements it needs in all} for the
    configurations whose median CI is missing or wider than +-target
    (relative half-width); empty when every configuration is done.
    samples: {configuration: times}, NaN for a round without a
    measurement."""
    if not 0 < target < 1:
        raise ValueError(f"target {target!r} is not between 0 and 1 "
                         "(e.g. 0.02 for +-2%)")
    pending = {}
    for config, values in samples.items():
        finite, _ = _finite_rounds(values)
        if finite.size == 0:
            pending[config] = min_samples(confidence)
            continue
        ci = median_ci(finite, confidence)
        if relative_half_width(ci) > target:
            pending[config] = rounds_to_target(ci, target)
    return pending
