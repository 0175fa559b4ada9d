"""The guest-linux suite's python3 check (gltest's "python3" case runs it with
Debian's /usr/bin/python3 in the guest): hashlib, json and subprocess from
the standard library, one output line that gltest compares with what it
computed itself.  tools/build/mkguest-initramfs runs it on the build host too, to
learn which standard-library files it needs.

    python3 pycheck.py N"""
import hashlib
import json
import subprocess
import sys

n = int(sys.argv[1])
sha = hashlib.sha256(b"abc").hexdigest()
md5 = hashlib.md5(b"abc").hexdigest()
doc = json.loads(json.dumps({"values": list(range(n)), "name": "pycheck"}))
total = sum(doc["values"])
# a child python, through a pipe: it reads N from stdin, answers 6*N
child = subprocess.run([sys.executable, "-c", "import sys; print(6 * int(sys.stdin.read()))"],
                       input=str(n), capture_output=True, text=True, check=True)
print("pycheck: sha256(abc)=%s md5(abc)=%s json=%d child=%s" % (sha, md5, total, child.stdout.strip()))
