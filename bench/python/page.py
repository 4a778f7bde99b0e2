"""The results page every Python benchmark writes: what it measured and how, the machine
it ran on (load and other processes' CPU time, so that noisy figures show as such),
the figures against their goals, and every run's seconds."""

import datetime
import os
import platform
import statistics


def medians(times):
    """The median seconds of every case and side."""
    return {case: {side: statistics.median(v) for side, v in sides.items()} for case, sides in times.items()}


def page(title, intro, machine, versions, header, rows, times):
    """The page: `versions` are more rows of the environment table (name, value),
    `header` the figures table's header line, `rows` its rows, `times` every run."""
    every = ["| case | side | runs (s) |", "|---|---|---|"]
    for case, sides in times.items():
        for side, runs in sides.items():
            every.append(f"| {case} | {side} | {', '.join(f'{r:.4f}' for r in runs)} |")
    profile = os.environ.get("PROFILE", "release")
    columns = header.count("|") - 1
    return "\n".join(
        [
            f"# {title}",
            "",
            intro,
            "",
            "## Environment",
            "",
            "| | |",
            "|---|---|",
            f"| date | {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC |",
            f"| nproc | {os.cpu_count()} |",
            f"| load average before the runs | {machine['load_before']} |",
            f"| CPU time used by other processes during the runs | {machine['other_cpu']:.1f} s over "
            f"{machine['wall']:.0f} s of wall time |",
            f"| Python | {platform.python_version()} |",
            *(f"| {name} | {value} |" for name, value in versions),
            f"| taskloom | the wheel of python/, built by maturin with the {profile} profile |",
            "",
            "## Figures",
            "",
            header,
            "|" + "---|" * columns,
            *rows,
            "",
            "## Every run",
            "",
            *every,
            "",
        ]
    )
