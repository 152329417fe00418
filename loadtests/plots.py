"""PNG plots of a run from Locust's stats history: throughput and latency over time."""

from __future__ import annotations

import math
from pathlib import Path

from loadtests.thresholds import AGGREGATED, Series

BUSIEST = 8  # endpoints drawn besides the total; more lines are unreadable
SMOOTH_S = 5  # Locust samples once a second, so per-second counts jitter


def _positive(values: list[float]) -> list[float]:
    # A log axis cannot show 0 or N/A (Locust's percentiles before the first request): leave gaps.
    return [v if v > 0 and not math.isnan(v) else math.nan for v in values]


def _smooth(values: list[float], width: int = SMOOTH_S) -> list[float]:
    """Trailing mean over `width` samples."""
    return [sum(values[max(0, i - width + 1):i + 1]) / len(values[max(0, i - width + 1):i + 1])
            for i in range(len(values))]


def plot(series: dict[str, Series], out: Path, title: str) -> list[Path]:
    """throughput.png and latency.png in `out`: the total bold and the busiest endpoints thin."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    total = series.get(AGGREGATED)
    if total is None:
        return []
    others = sorted((s.requests[-1], name) for name, s in series.items() if name != AGGREGATED)
    busiest = {name: series[name] for _, name in reversed(others[-BUSIEST:])}
    written = []
    for kind in ("throughput", "latency"):
        fig, ax = plt.subplots(figsize=(12, 6))
        if kind == "throughput":
            ax.plot(total.seconds, _smooth(total.rps), color="black", linewidth=2, label="total")
            for name, s in busiest.items():
                ax.plot(s.seconds, _smooth(s.rps), linewidth=1, label=name)
            ax.set_ylabel(f"requests per second ({SMOOTH_S} s mean)")
            users = ax.twinx()
            users.plot(total.seconds, total.users, color="grey", linestyle=":")
            users.set_ylabel("users (dotted)")
        else:
            for pct, style in (("p50", ":"), ("p95", "--"), ("p99", "-")):
                ax.plot(total.seconds, _positive(getattr(total, pct)), color="black", linestyle=style,
                        linewidth=2, label=f"total {pct}")
            for name, s in busiest.items():
                ax.plot(s.seconds, _positive(s.p99), linewidth=1, label=f"{name} p99")
            ax.set_yscale("log")
            ax.set_ylabel("response time, ms (Locust's last 10 s)")
        ax.set_xlabel("seconds since start")
        ax.set_title(f"{title}: {kind} (total and the {len(busiest)} busiest endpoints)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.08, 1), fontsize=8)
        path = out / f"{kind}.png"
        fig.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    return written
