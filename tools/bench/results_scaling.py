"""The parts of docs/results.md that issue 15 added, for tools/bench/make-results:
how cost grows with the work (plots and text generated from the figures),
several guests at once, the issue's targets, and the before/after table
against bench/baseline/issue15-before.jsonl.  Standard library and gnuplot
only (make-results passes its gnuplot() and datafile() in)."""
import json
import os

# lbench rows that belong to the scaling figures, not to the main table
SCALING_PREFIXES = ("fork_exit_touch_", "mmap_touch_")
GUEST_LIMIT = 2.5           # issue 15: every lbench row of the guest at most this x native
STAT_PAIR_TOLERANCE = 0.10  # stat_rodata and stat_stack within 10% of each other
PAIR_TOLERANCE = 0.10       # two guests at once: each row within 10% of a lone guest's
LINEAR_TOLERANCE = 0.25     # a segment's slope within 25% of the fitted one: "linear"


def is_scaling(name):
    return name.startswith(SCALING_PREFIXES)


def size_of(name):
    """'mmap_touch_256k' -> 256 (KiB); 'fork_exit_touch_16m' -> 16384."""
    tail = name.rsplit("_", 1)[1]
    return int(tail[:-1]) * (1024 if tail.endswith("m") else 1)


def fit(points):
    """Least squares y = a + b x over [(x, y)]: (a, b, r2)."""
    n = len(points)
    sx = sum(x for x, _ in points)
    sy = sum(y for _, y in points)
    sxx = sum(x * x for x, _ in points)
    sxy = sum(x * y for x, y in points)
    den = n * sxx - sx * sx
    b = (n * sxy - sx * sy) / den if den else 0.0
    a = (sy - b * sx) / n
    my = sy / n
    ss = sum((y - my) ** 2 for _, y in points)
    res = sum((y - a - b * x) ** 2 for x, y in points)
    return a, b, (1 - res / ss) if ss else 1.0


def linearity(points):
    """(a, b, r2, segment slopes, linear?) for points sorted by x."""
    a, b, r2 = fit(points)
    segs = [(y1 - y0) / (x1 - x0) for (x0, y0), (x1, y1) in zip(points, points[1:]) if x1 != x0]
    # the first segment holds the fixed part's rounding; judge the ones after
    # it (all of them when there are only two)
    judged = segs[1:] if len(segs) > 2 else segs
    lin = b > 0 and all(abs(s - b) <= LINEAR_TOLERANCE * b for s in judged)
    return a, b, r2, segs, lin


def plot_lines(gnuplot, datafile, name, title, xlabel, ylabel, series, logx=False, logy=False,
               xtics=None):
    """series: [(label, [(x, y)], colour)] -> docs/img/NAME with gnuplot; True on success."""
    dats, plots = [], []
    for label, pts, colour in series:
        if not pts:
            continue
        d = datafile(sorted(pts))
        dats.append(d)
        plots.append(f"'{d}' using 1:2 with linespoints lw 2 pt 7 lc rgb '{colour}' "
                     f"title \"{label}\"")
    if not plots:
        return False
    top = max(y for _, pts, _ in series for _, y in pts)
    yfmt = "%.0f" if top < 1e4 else "%.1s%c"      # 800, 1.2k, 35.0M
    script = (f'set title "{title}"\nset xlabel "{xlabel}"\nset ylabel "{ylabel}"\n'
              f'set grid\nset key below\nset format y "{yfmt}"\n'
              + ("set logscale x 2\n" if logx else "") + ("set logscale y 10\n" if logy else "")
              + (f"set xtics ({xtics})\n" if xtics else "")
              + "plot " + ", \\\n     ".join(plots) + "\n")
    ok = gnuplot(script, name)
    for d in dats:
        os.unlink(d)
    return ok


def fmt(x):
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.2g}"


def describe(label, pts, unit, per):
    """One sentence on how the cost grows, from the points."""
    a, b, r2, segs, lin = linearity(sorted(pts))
    s = (f"{label}: {fmt(b)} instructions per {per} (least-squares slope; intercept "
         f"{fmt(a)}, R² {r2:.4f})")
    if lin:
        s += "; grows linearly (each step's slope within " \
             f"{LINEAR_TOLERANCE:.0%} of it)"
    else:
        s += "; does not grow linearly: the slopes between the points are " + \
             ", ".join(fmt(x) for x in segs) + f" instructions per {per}"
    return s + ".", b


def versus(pts_g, pts_n, xname, xunit):
    """Where the guest does worse than native, point by point."""
    n = dict(pts_n)
    worse = [(x, y / n[x]) for x, y in sorted(pts_g) if x in n and n[x] and y > n[x]]
    better = [(x, y / n[x]) for x, y in sorted(pts_g) if x in n and n[x] and y <= n[x]]
    parts = []
    if worse:
        parts.append("worse than native at " + ", ".join(f"{x:g} {xunit} ({r:.2f}x)" for x, r in worse))
    if better:
        parts.append("at or below native at " + ", ".join(f"{x:g} {xunit} ({r:.2f}x)" for x, r in better))
    return "The guest is " + "; ".join(parts) + "." if parts else ""


def scaling_section(gnuplot, datafile, lx_by, uk, multi, boot_mem):
    """'How cost grows with the work': figures and generated text."""
    L = ["## 8. How cost grows with the work", "",
         "Each figure is measured by `make bench` (instructions under tcg-icount, medians); "
         "the text under it is generated from the same figures: a least-squares line through "
         "the points, and the slope between each pair of neighbouring points; the cost is "
         f"called linear when every slope after the first is within {LINEAR_TOLERANCE:.0%} of "
         "the fitted one.", ""]
    nat, gst = lx_by.get("native", {}), lx_by.get("guest", {})

    def series(sysrows, prefix, base=None):
        pts = [(size_of(n), r["median"]) for n, r in sysrows.items() if n.startswith(prefix)]
        if base and base in sysrows and pts:
            pts.append((0, sysrows[base]["median"]))
        return sorted(pts)

    # --- fork_exit against the parent's touched memory
    L += ["### fork_exit against the parent's touched memory", ""]
    g, n = series(gst, "fork_exit_touch_", "fork_exit"), series(nat, "fork_exit_touch_", "fork_exit")
    g = [(x / 1024, y) for x, y in g]
    n = [(x / 1024, y) for x, y in n]
    if len(g) < 2 and len(n) < 2:
        L += ["Not measured: `make bench` runs lbench's `fork_exit_touch_*` rows.", ""]
    else:
        L += ["lbench `fork_exit` (0 MiB) and `fork_exit_touch_1m`, `_16m`, `_64m`: the parent "
              "writes every page of 1, 16 or 64 MiB of private anonymous memory, then forks a "
              "child that exits at once and waits for it.", "",
              "| MiB touched | native | guest | guest/native | guest events |", "|---:|---:|---:|---:|---|"]
        gd, nd = dict(g), dict(n)
        for x in sorted(set(gd) | set(nd)):
            name = "fork_exit" if x == 0 else f"fork_exit_touch_{x:g}m"
            ev = gst.get(name, {}).get("events", {})
            evs = (f"{ev.get('kernel_entries', 0):g} E, {ev.get('as_switches', 0):g} S, "
                   f"{ev.get('tlb_flushes', 0):g} F") if ev else "-"
            L.append(f"| {x:g} | {fmt(nd[x]) if x in nd else '-'} | {fmt(gd[x]) if x in gd else '-'} "
                     f"| {gd[x] / nd[x]:.2f}x | {evs} |" if x in gd and x in nd else
                     f"| {x:g} | {fmt(nd.get(x, 0))} | {fmt(gd.get(x, 0))} | - | {evs} |")
        L.append("")
        if plot_lines(gnuplot, datafile, "scaling-fork.png",
                      "fork + exit + wait against the parent's touched memory (tcg-icount)",
                      "MiB of the parent's memory written before the fork", "instructions",
                      [("native", n, "#4477aa"), ("guest", g, "#ee6677")]):
            L += ["![fork_exit against touched memory](img/scaling-fork.png)", ""]
        text = []
        slopes = {}
        for label, pts in (("Native", n), ("Guest", g)):
            if len(pts) >= 2:
                s, b = describe(label, pts, "MiB", "MiB")
                slopes[label] = b
                text.append(s)
        if len(slopes) == 2 and slopes["Native"]:
            text.append(f"Per MiB the guest pays {slopes['Guest'] / slopes['Native']:.2f}x "
                        f"native's slope ({fmt(slopes['Guest'] / 256)} against "
                        f"{fmt(slopes['Native'] / 256)} instructions a 4 KiB page).")
        text.append(versus(g, n, "", "MiB"))
        L += [" ".join(t for t in text if t), ""]

    # --- mmap + touch + munmap against size
    L += ["### mmap, touch every page, munmap, against the size", ""]
    g, n = series(gst, "mmap_touch_"), series(nat, "mmap_touch_")
    if len(g) < 2 and len(n) < 2:
        L += ["Not measured: `make bench` runs lbench's `mmap_touch_*` rows.", ""]
    else:
        L += ["lbench `mmap_touch_64k` ... `mmap_touch_64m`: one anonymous private `mmap`, a "
              "write to each of its pages (one page fault each), `munmap`.", "",
              "| size (KiB) | native | guest | guest/native | guest per page | native per page |",
              "|---:|---:|---:|---:|---:|---:|"]
        gd, nd = dict(g), dict(n)
        for x in sorted(set(gd) | set(nd)):
            pages = x / 4
            L.append(f"| {x:g} | {fmt(nd[x]) if x in nd else '-'} | {fmt(gd[x]) if x in gd else '-'} | "
                     + (f"{gd[x] / nd[x]:.2f}x" if x in gd and x in nd else "-")
                     + f" | {fmt(gd[x] / pages) if x in gd else '-'} | {fmt(nd[x] / pages) if x in nd else '-'} |")
        L.append("")
        if plot_lines(gnuplot, datafile, "scaling-mmap.png",
                      "mmap + write each page + munmap against the size (tcg-icount)",
                      "size (KiB, log scale)", "instructions (log scale)",
                      [("native", n, "#4477aa"), ("guest", g, "#ee6677")], logx=True, logy=True):
            L += ["![mmap+touch+munmap against size](img/scaling-mmap.png)", ""]
        text = []
        for label, pts in (("Native", n), ("Guest", g)):
            if len(pts) >= 2:
                s, b = describe(label, [(x / 4, y) for x, y in pts], "page", "4 KiB page")
                text.append(s)
        text.append(versus(g, n, "", "KiB"))
        L += [" ".join(t for t in text if t), ""]

    # --- IPC against message length
    L += ["### IPC against the message's length (microkernel)", ""]
    ipc = {}
    for r in uk or []:
        nm = r["name"]
        if nm == "ipc.call.cross":
            ipc[0] = r
        elif nm.startswith("ipc.call.cross.") and nm.endswith("w"):
            ipc[int(nm.split(".")[-1][:-1])] = r
    if len(ipc) < 3:
        L += ["Not measured: `make bench` runs the microkernel's `ipc.call.cross.Nw` rows.", ""]
    else:
        regs = sorted((w, r["median"]) for w, r in ipc.items() if w <= 4)
        buf = sorted((w, r["median"]) for w, r in ipc.items() if w > 4)
        L += ["One-way IPC call to a server in another address space (`bench/ukernel/main.c`), "
              "0 to 64 words (`UK_MSG_MAX_WORDS`): words 0-3 travel in registers, words 4 and "
              "up in the two threads' IPC buffers (`libipc/include/uk/abi.h`). There is no "
              "native counterpart.", "",
              "| words | instructions | fast path | entries | AS switches |", "|---:|---:|---:|---:|---:|"]
        for w in sorted(ipc):
            ev = ipc[w].get("events", {})
            L.append(f"| {w} | {ipc[w]['median']} | {ev.get('ipc_fastpath', 0):g} "
                     f"| {ev.get('kernel_entries', 0):g} | {ev.get('as_switches', 0):g} |")
        L.append("")
        if plot_lines(gnuplot, datafile, "scaling-ipc.png",
                      "One-way cross-address-space IPC against message length (tcg-icount)",
                      "message words", "instructions",
                      [("registers (0-4 words)", regs, "#228833"),
                       ("IPC buffer (5+ words)", buf, "#aa3377")]):
            L += ["![IPC against message length](img/scaling-ipc.png)", ""]
        text = []
        if regs:
            lo, hi = min(y for _, y in regs), max(y for _, y in regs)
            text.append(f"In registers the cost is flat: {lo}" + (f" to {hi}" if hi != lo else "")
                        + f" instructions for 0 to {max(w for w, _ in regs)} words.")
        if buf and regs:
            last_reg, first_buf = regs[-1], buf[0]
            fp = ipc[first_buf[0]].get("events", {}).get("ipc_fastpath")
            text.append(f"The first word in the IPC buffer ({first_buf[0]} words) costs "
                        f"{first_buf[1] - last_reg[1]:,} instructions more than {last_reg[0]} "
                        "words: such a message leaves the fast path"
                        + (f" (fast-path share {fp:g} per one-way IPC: the call takes the slow "
                           "path, the reply of 0 words the fast one)" if fp is not None else "")
                        + ".")
        if len(buf) >= 2:
            s, b = describe("Beyond that", buf, "word", "word")
            text.append(s)
        L += [" ".join(text), ""]

    # --- contention
    L += contention_section(gnuplot, datafile, multi, gst)

    # --- boot against RAM
    L += ["### The boot against the guest's RAM", ""]
    rows = boot_mem or []
    g = sorted((r["mem_mib"], r["median"]) for r in rows if r["system"] == "guest")
    n = sorted((r["mem_mib"], r["median"]) for r in rows if r["system"] == "native")
    if len(g) < 2 and len(n) < 2:
        L += ["Not measured: `make bench` runs `tools/bench/run-boot-mem`.", ""]
    else:
        L += ["`tools/bench/run-boot-mem`: the benchmark initramfs's `/init` prints its clocks "
              "at its start (`lbench_boot=1`). *guest*: the whole stack from the microkernel's "
              "first instruction (root task, console server, vmm-server loading and starting "
              "Linux, Linux's boot; GRUB before it not counted), halted time subtracted "
              "(`/proc/ukvm`); *native*: the TSC at `/init` from QEMU's reset (SeaBIOS, the "
              "kernel's decompression, Linux's boot), idle and iowait time subtracted "
              "(`/proc/timer_list`). The two do not count the same stretch; the slopes "
              "compare. Up to a 256 MiB guest the machine has 1 GiB, above it 2.5 x the "
              "guest's RAM + 384 MiB (`tools/run/boot-guest`, as `make run`), and the "
              "microkernel hands all free machine memory to the root task at its boot, so "
              "above 256 MiB the guest's figure also grows with the machine's memory.", "",
              "| RAM (MiB) | native | guest | guest/native |", "|---:|---:|---:|---:|"]
        gd, nd = dict(g), dict(n)
        for x in sorted(set(gd) | set(nd)):
            L.append(f"| {x} | {fmt(nd[x]) if x in nd else '-'} | {fmt(gd[x]) if x in gd else '-'} | "
                     + (f"{gd[x] / nd[x]:.2f}x" if x in gd and x in nd else "-") + " |")
        L.append("")
        if plot_lines(gnuplot, datafile, "scaling-boot.png",
                      "Boot to /init against RAM (tcg-icount)", "RAM (MiB)",
                      "instructions", [("native", n, "#4477aa"), ("guest", g, "#ee6677")]):
            L += ["![boot against RAM](img/scaling-boot.png)", ""]
        text, slopes = [], {}
        for label, pts in (("Native", n), ("Guest", g)):
            if len(pts) >= 2:
                s, b = describe(label, pts, "MiB", "MiB of RAM")
                slopes[label] = b
                text.append(s)
        if len(slopes) == 2 and slopes["Native"] > 0:
            text.append(f"Per MiB of RAM the guest's boot grows {slopes['Guest'] / slopes['Native']:.2f}x "
                        "as fast as native's.")
        text.append(versus(g, n, "", "MiB"))
        L += [" ".join(t for t in text if t), ""]
    return L


def contention_section(gnuplot, datafile, multi, gst):
    L = ["### A guest's system call and pipe round trip beside busy guests", ""]
    rows = [r for r in multi or [] if r.get("mode") == "busy"]
    if not rows:
        return L + ["Not measured: `make bench` runs `tools/bench/run-multi busy`.", ""]
    names = list(dict.fromkeys(r["name"] for r in rows))
    by = {(r["name"], r["busy_guests"]): r for r in rows}
    counts = sorted({r["busy_guests"] for r in rows})
    L += ["`tools/bench/run-multi busy`: guest g1 runs lbench's rows while N other Linux guests "
          "(64 MiB each) run a busy workload (lbench's system calls, pipes, forks, page faults "
          "and mmap in a loop, `bench/linux/init`); every busy guest is checked to be busy "
          "(its TSC stamp) before g1 starts. Instructions per operation of g1, and its "
          "microkernel events (machine-wide counters, so another guest's event inside a "
          "window would show). No native counterpart: native Linux has no guests beside it.", "",
          "| busy guests | " + " | ".join(names) + " | events |",
          "|---:|" + "---:|" * len(names) + "---|"]
    for c in counts:
        cells = [fmt(by[(n, c)]["median"]) if (n, c) in by else "-" for n in names]
        evs = "; ".join(
            f"{n}: " + ", ".join(f"{k.replace('kernel_entries', 'E').replace('as_switches', 'S').replace('tlb_flushes', 'F')} {v:g}"
                                 for k, v in by[(n, c)].get("events", {}).items())
            for n in names if (n, c) in by)
        L.append(f"| {c} | " + " | ".join(cells) + f" | {evs} |")
    L.append("")
    series = [(n, [(c, by[(n, c)]["median"]) for c in counts if (n, c) in by], col)
              for n, col in zip(names, ("#ee6677", "#228833", "#4477aa", "#aa3377"))]
    if plot_lines(gnuplot, datafile, "scaling-busy.png",
                  "Guest g1's operations with N busy guests beside it (tcg-icount)",
                  "busy guests", "instructions per operation", series, logy=True,
                  xtics=", ".join(str(c) for c in counts)):
        L += ["![operations beside busy guests](img/scaling-busy.png)", ""]
    text = []
    for n in names:
        pts = [(c, by[(n, c)]["median"]) for c in counts if (n, c) in by]
        base = pts[0][1]
        worst = max(pts, key=lambda p: abs(p[1] - base))
        change = (worst[1] - base) / base if base else 0
        if abs(change) < 0.005:
            text.append(f"`{n}` does not grow with the busy guests: {fmt(base)} instructions "
                        f"with {pts[0][0]} to {pts[-1][0]} of them.")
        else:
            text.append(f"`{n}` moves from {fmt(base)} ({pts[0][0]} busy guests) by up to "
                        f"{change:+.1%} ({fmt(worst[1])} with {worst[0]}).")
        if n in gst:
            text.append(f"(The lone-guest row of section 1: {fmt(gst[n]['median'])}.)")
    flat = all(abs(by[(n, c)]["median"] - by[(n, counts[0])]["median"])
               <= 0.005 * by[(n, counts[0])]["median"] for n in names for c in counts
               if (n, c) in by and (n, counts[0]) in by)
    if flat:
        text.append("So per operation the instructions do not depend on how many guests run; "
                    "what the other guests would cost g1 on hardware (caches, TLB refills "
                    "after their address-space switches) is not an instruction and cannot "
                    "show here.")
    return L + [" ".join(text), ""]


def pair_section(multi, gst):
    """Two guests running lbench at the same time against a lone guest."""
    L = ["## 9. Two guests at once", ""]
    rows = [r for r in multi or [] if r.get("mode") == "pair"]
    if not rows:
        return L + ["Not measured: `make bench` runs `tools/bench/run-multi pair`.", ""], None
    by = {(r["guest"], r["name"]): r for r in rows}
    names = list(dict.fromkeys(r["name"] for r in rows))
    L += ["`tools/bench/run-multi pair`: guests g1 and g2 (256 MiB each, as the lone guest of "
          "section 1) both run lbench at the same time, each then a busy workload until both "
          "are done, so each one's every row ran with the other busy beside it (checked from "
          "their TSC stamps). Lone: section 1's guest row. Target (issue 15): each guest's "
          f"row within {PAIR_TOLERANCE:.0%} of the lone guest's.", "",
          "| benchmark | lone guest | g1 | g2 | g1/lone | g2/lone | g1 events | verdict |",
          "|---|---:|---:|---:|---:|---:|---|---|"]
    missed, judged = [], 0
    for n in names:
        lone = gst.get(n, {}).get("median")
        g1, g2 = by.get(("g1", n)), by.get(("g2", n))
        r1 = g1["median"] / lone if g1 and lone else None
        r2 = g2["median"] / lone if g2 and lone else None
        ok = None
        if r1 is not None and r2 is not None:
            judged += 1
            ok = abs(r1 - 1) <= PAIR_TOLERANCE and abs(r2 - 1) <= PAIR_TOLERANCE
            if not ok:
                missed.append(n)
        ev = (g1 or {}).get("events", {})
        evs = ", ".join(f"{k.replace('kernel_entries', 'E').replace('as_switches', 'S').replace('tlb_flushes', 'F')} {v:g}"
                        for k, v in ev.items())
        L.append(f"| {n} | {fmt(lone) if lone else '-'} | {fmt(g1['median']) if g1 else '-'} "
                 f"| {fmt(g2['median']) if g2 else '-'} | {f'{r1:.3f}' if r1 else '-'} "
                 f"| {f'{r2:.3f}' if r2 else '-'} | {evs} | "
                 + ("-" if ok is None else "**met**" if ok else "**MISSED**") + " |")
    L += ["", (f"{judged - len(missed)} of {judged} rows within {PAIR_TOLERANCE:.0%} for both "
               "guests" + (": missed " + ", ".join(f"`{n}`" for n in missed) if missed else "")
               + "."), ""]
    return L, (judged, missed)


def issue15_targets(nat, gst, uk_by, baseline, pair_result):
    """Issue 15's targets, judged from the figures."""
    L = ["### Issue 15's targets", "",
         f"Every lbench row of the guest at most {GUEST_LIMIT}x native (the scaling rows of "
         "section 8 are judged there, not here); the path rows' string placement within "
         f"{STAT_PAIR_TOLERANCE:.0%}; no microkernel row above its figure before the issue "
         "(`bench/baseline/issue15-before.jsonl`); two guests at once within "
         f"{PAIR_TOLERANCE:.0%} (section 9).", "",
         "| target | figure | verdict |", "|---|---|---|"]
    missed = []
    for n, g in gst.items():
        if is_scaling(n) or n not in nat:
            continue
        r = g["median"] / nat[n]["median"]
        ok = r <= GUEST_LIMIT
        if not ok:
            missed.append(n)
        L.append(f"| `{n}` ≤ {GUEST_LIMIT}x native | {g['median']:,} / {nat[n]['median']:,} = "
                 f"{r:.2f}x | {'**met**' if ok else '**MISSED**'} |")
    if "stat_rodata" in gst and "stat_stack" in gst:
        a, b = gst["stat_rodata"]["median"], gst["stat_stack"]["median"]
        d = abs(a - b) / min(a, b)
        ok = d <= STAT_PAIR_TOLERANCE
        if not ok:
            missed.append("stat_rodata/stat_stack")
        L.append(f"| `stat_rodata` and `stat_stack` within {STAT_PAIR_TOLERANCE:.0%} (guest) | "
                 f"{a:,} and {b:,}: {d:.1%} apart | {'**met**' if ok else '**MISSED**'} |")
    base_uk = {r["name"]: r for r in baseline or [] if r.get("set") == "ukernel"}
    worse = [(n, base_uk[n]["median"], uk_by[n]["median"]) for n in base_uk
             if n in uk_by and uk_by[n]["median"] > base_uk[n]["median"]]
    if base_uk and uk_by:
        ok = not worse
        if not ok:
            missed.append("microkernel rows")
        L.append(f"| every microkernel row at or below its figure before ({len(base_uk)} rows) | "
                 + ("none above" if ok else ", ".join(f"`{n}` {a} -> {b}" for n, a, b in worse))
                 + f" | {'**met**' if ok else '**MISSED**'} |")
    if pair_result:
        judged, pmissed = pair_result
        ok = not pmissed
        if not ok:
            missed.append("two guests")
        L.append(f"| two guests at once, each row within {PAIR_TOLERANCE:.0%} of a lone guest's | "
                 f"{judged - len(pmissed)} of {judged} rows | {'**met**' if ok else '**MISSED**'} |")
    L += ["", ("All of issue 15's measured targets are met." if not missed else
               "Missed: " + ", ".join(f"`{m}`" for m in missed) + "."), ""]
    return L


def before_after_section(baseline, lx_by, uk_by, boot_rows, breakdown):
    """Before/after issue 15, from the baseline file and today's figures."""
    L = ["## 10. Before and after issue 15", ""]
    if not baseline:
        return L + ["No baseline: `bench/baseline/issue15-before.jsonl` is missing.", ""]
    srcs = list(dict.fromkeys(r["source"] for r in baseline))
    L += ["*Before*: `bench/baseline/issue15-before.jsonl`, the figures as the issue found them "
          "(sources: " + "; ".join(srcs) + "). *After*: this report's figures (same QEMU, "
          "tcg-icount). Native is today's native row.", "",
          "| row | before | after | change | after / native | events before | events after |",
          "|---|---:|---:|---:|---:|---|---|"]
    gst, nat = lx_by.get("guest", {}), lx_by.get("native", {})
    evf = lambda ev: (", ".join(f"{v:g} {k[0].upper()}" for k, v in
                                (("E", ev.get("kernel_entries", 0)), ("S", ev.get("as_switches", 0)),
                                 ("F", ev.get("tlb_flushes", 0)))) if ev else "-")
    for r in baseline:
        if r.get("set") != "linux" or r.get("system") != "guest":
            continue
        n, b = r["name"], r["median"]
        a = gst.get(n)
        if not a:
            L.append(f"| guest `{n}` | {b:,} | not measured | - | - | {evf(r.get('events'))} | - |")
            continue
        nv = nat.get(n, {}).get("median")
        L.append(f"| guest `{n}` | {b:,} | {a['median']:,} | {(a['median'] - b) / b:+.1%} | "
                 + (f"{a['median'] / nv:.2f}x" if nv else "-")
                 + f" | {evf(r.get('events'))} | {evf(a.get('events'))} |")
    for r in baseline:
        if r.get("set") != "ukernel":
            continue
        n, b = r["name"], r["median"]
        a = uk_by.get(n)
        if a:
            L.append(f"| microkernel `{n}` | {b:,} | {a['median']:,} | {(a['median'] - b) / b:+.1%} "
                     f"| - | {evf(r.get('events'))} | {evf(a.get('events'))} |")
    boot_after = next((r for r in boot_rows or [] if r.get("unit") == "instructions"), None)
    for r in baseline:
        if r.get("set") == "boot" and boot_after:
            ev_b, ev_a = r.get("events", {}), boot_after.get("events", {})
            L.append(f"| boot to the shell, instructions | {r['median']:,} | {boot_after['median']:,} "
                     f"| {(boot_after['median'] - r['median']) / r['median']:+.1%} | - | - | - |")
            for k in ("tlb_flushes", "as_switches"):
                if k in ev_b and k in ev_a:
                    L.append(f"| boot to the shell, `{k}` | {ev_b[k]:,} | {ev_a[k]:,} | "
                             f"{(ev_a[k] - ev_b[k]) / ev_b[k]:+.1%} | - | - | - |")
        if r.get("set") == "breakdown" and breakdown:
            a = breakdown.get("total_per_call")
            if a:
                L.append(f"| `getppid()` breakdown, total per call | {r['median']:g} | {a:g} | "
                         f"{(a - r['median']) / r['median']:+.1%} | - | - | - |")
    return L + [""]


def load_jsonl(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
