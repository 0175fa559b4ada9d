"""A writer of uncompressed newc cpio archives (the Linux initramfs format),
the same format as tools/build/mkinitramfs writes: no root, no device nodes or
file ownership on the host needed.  Entries are owned by root, mtime 0 unless
given (Python's cached bytecode is checked against its source's mtime), so the
same inputs give the same bytes.

    a = Archive()
    a.file("bin/busybox", open("/bin/busybox", "rb").read(), 0o755)
    a.symlink("bin/sh", "busybox")
    a.dev("dev/console", "c", 5, 1)
    a.write("out.cpio")

Parent directories are added (mode 0755) for every entry that needs them."""
import os
import stat


class Archive:
    def __init__(self):
        self.entries = {}   # name -> (mode, data, major, minor, mtime); insertion order kept

    def _add(self, name, mode, data=b"", major=0, minor=0, mtime=0):
        name = name.strip("/")
        parent = os.path.dirname(name)
        if parent and parent not in self.entries:
            self.dir(parent)
        self.entries[name] = (mode, data, major, minor, mtime)

    def dir(self, name, perm=0o755):
        self._add(name, stat.S_IFDIR | perm)

    def file(self, name, data, perm=0o644, mtime=0):
        self._add(name, stat.S_IFREG | perm, data, mtime=int(mtime))

    def symlink(self, name, target):
        self._add(name, stat.S_IFLNK | 0o777, target.encode())

    def dev(self, name, kind, major, minor, perm=0o600):
        self._add(name, (stat.S_IFCHR if kind == "c" else stat.S_IFBLK) | perm, b"", major, minor)

    def has(self, name):
        return name.strip("/") in self.entries

    def write(self, out):
        """Writes the archive to out (through out.tmp and a rename)."""
        def pad(n):
            return b"\0" * (-n % 4)
        items = list(self.entries.items()) + [("TRAILER!!!", (0, b"", 0, 0, 0))]
        with open(out + ".tmp", "wb") as f:
            for ino, (name, (mode, data, major, minor, mtime)) in enumerate(items, 1):
                nm = name.encode() + b"\0"
                nlink = 2 if stat.S_ISDIR(mode) else 1
                hdr = "070701" + "".join("%08X" % v for v in (
                    ino, mode, 0, 0, nlink, mtime, len(data), 0, 0, major, minor, len(nm), 0))
                f.write(hdr.encode() + nm + pad(110 + len(nm)) + data + pad(len(data)))
        os.replace(out + ".tmp", out)
