"""TorchScript files that are the same bytes on every export of the same module.

FastGDA fingerprints a TorchScript part or feature encoder by its file's bytes (a student, a cache
or an index made with one file is refused with another), so exporting the same weights again must
not change them. Two things would (the archive's serialization id follows its records):
- the archive's folder is named after the file it is saved to, and a temporary name differs each
  run: the module is saved to memory instead, where the folder is always "archive";
- the order of the constants in the generated code follows Python's string hashing, randomised
  per process: the exporting process runs with PYTHONHASHSEED=0 (require_hash_seed starts it again
  so).
Used by export-encoder.py and export-diffusers.py.
"""

import io
import os
import sys
import tempfile


def require_hash_seed():
    """Starts this script again with PYTHONHASHSEED=0 unless it already runs so."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable] + sys.argv,
                  dict(os.environ, PYTHONHASHSEED="0"))


def save(torch, module, path, extra_files=None):
    """Saves `module` to `path` reproducibly, through a temporary file renamed at the end."""
    buffer = io.BytesIO()
    torch.jit.save(module, buffer, _extra_files=extra_files or {})
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # as open() would make it; mkstemp's is private
        with os.fdopen(fd, "wb") as f:
            f.write(buffer.getvalue())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
