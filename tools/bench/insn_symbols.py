"""Symbols for the insn-profile plugin's per-address counts, shared by
tools/bench/syscall-breakdown and tools/bench/storage-breakdown: the text
symbols of an ELF (nm) and the names of the Linux guest's host layer."""
import bisect
import subprocess
import sys

HOST_LAYER_DIRS = ["arch/um/os-ukernel", "arch/x86/um/os-ukernel"]
HOST_LAYER_EXTRA = {"kernel_setjmp", "kernel_longjmp"}   # arch/x86/um/setjmp_64.S


def _nm(args, what):
    r = subprocess.run(["nm"] + args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("nm %s failed: %s" % (what, r.stderr.strip()))
    return r.stdout


class Symbols:
    """Text symbols of one ELF (nm -n): address -> the symbol it is in."""
    def __init__(self, path):
        self.addrs, self.names, self.end = [], [], None
        self.absolute = {}               # e.g. the microkernel's KERNEL_BASE (linker.ld)
        for f in (line.split() for line in _nm(["-n", "--defined-only", path], path).splitlines()):
            if len(f) == 3 and f[1] in "aA":
                self.absolute[f[2]] = int(f[0], 16)
            elif len(f) == 3 and f[1] in "tTwW":
                self.addrs.append(int(f[0], 16))
                self.names.append(f[2])
            elif len(f) == 3 and f[2] in ("_end", "__image_end"):   # Linux's, ours
                self.end = int(f[0], 16)
        if not self.addrs:
            sys.exit("no text symbols in %s" % path)
        self.end = self.end or self.addrs[-1] + 1

    def lookup(self, addr):
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0 or addr >= self.end:   # below the first or past the image
            return None
        return self.names[i]


def host_layer_names(linux_dir):
    """The guest host layer's text symbols: those of arch/um/os-ukernel/*.o
    and arch/x86/um/os-ukernel/*.o in the build tree linux_dir, plus
    kernel_setjmp/kernel_longjmp."""
    import os
    names = set(HOST_LAYER_EXTRA)
    for d in HOST_LAYER_DIRS:
        folder = os.path.join(linux_dir, d)
        objs = [os.path.join(folder, f) for f in sorted(os.listdir(folder))
                if f.endswith(".o")] if os.path.isdir(folder) else []
        if not objs:
            sys.exit("no host layer objects in %s (the kernel's folder must be its build tree)"
                     % folder)
        names |= {f[2] for f in (l.split() for l in _nm(["--defined-only"] + objs, folder).splitlines())
                  if len(f) == 3 and f[1] in "tTwW"}
    return names
