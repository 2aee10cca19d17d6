#!/usr/bin/python3
"""The C in the guides compiles, links and runs.

Every ```c block of the pages below is a complete file: it is compiled with
the project's warnings as errors against include/vial.h, linked with
libvial.a, and run: a program handing its app to vial_main is run as
`./prog routes` (which fails when a rule, converter or endpoint was refused at
registration), any other program with a main is run as it is and must exit 0,
and a block without main is linked with an empty one. Every vial_* / VIAL_*
name the pages mention (also in tables and prose) must exist in vial.h.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

SOURCE = os.environ.get("VIAL_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("VIAL_BUILD_DIR") or os.path.join(SOURCE, "build", "release")
SANITIZE = os.environ.get("VIAL_SANITIZE") == "1"
PAGES = ["docs/routing.md", "docs/requests.md", "docs/responses.md", "examples/tutorial/README.md"]
DEPS = ["libpcre2-8", "libcrypto", "zlib", "sqlite3", "libpq", "hiredis"]

# Environment variables the pages name (read by vial_main and `run`), not C names.
ENVIRONMENT = {"VIAL_DEBUG", "VIAL_RUN_HOST", "VIAL_RUN_PORT", "VIAL_RUN_WORKERS", "VIAL_SECRET_KEY", "VIAL_DB__HOST"}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, file=sys.stderr)


def compiler():
    """The C compiler the build used (clang in the sanitizer build)."""
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt"), encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("CMAKE_C_COMPILER:"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return os.environ.get("CC", "cc")


def blocks(text):
    for m in re.finditer(r"^```c\n(.*?)^```", text, re.S | re.M):
        yield text.count("\n", 0, m.start()) + 2, m.group(1)


def main():
    cc = compiler()
    lib = os.path.join(BUILD, "libvial.a")
    if not os.path.exists(lib):
        fail(f"{lib} is not built")
        return 1
    libs = subprocess.run(["pkg-config", "--libs", *DEPS], capture_output=True, text=True, check=True).stdout.split()
    flags = ["-std=gnu11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
             "-Wno-unused-function", "-I", os.path.join(SOURCE, "include")]
    if SANITIZE:
        flags += ["-fsanitize=address,undefined", "-g"]
    with open(os.path.join(SOURCE, "include", "vial.h"), encoding="utf-8") as fh:
        header = fh.read()
    declared = set(re.findall(r"\b(vial_\w+|VIAL_\w+)\b", header))
    count = 0
    with tempfile.TemporaryDirectory(prefix="vial-snippets-") as tmp:
        for page in PAGES:
            with open(os.path.join(SOURCE, page), encoding="utf-8") as fh:
                text = fh.read()
            for name in sorted(set(re.findall(r"\b(vial_[a-z0-9_]+|VIAL_[A-Z0-9_]+)\b", text))):
                if name not in declared and name not in ENVIRONMENT:
                    fail(f"{page}: {name} is not in include/vial.h")
            for line, code in blocks(text):
                count += 1
                where = f"{page}:{line}"
                src = os.path.join(tmp, f"snippet{count}.c")
                prog = os.path.join(tmp, f"snippet{count}")
                has_main = re.search(r"^int main\(", code, re.M) is not None
                with open(src, "w", encoding="utf-8") as fh:
                    fh.write(code if has_main else code + "\nint main(void) { return 0; }\n")
                cmd = [cc, *flags, src, "-o", prog, lib, *libs, "-lm", "-lpthread"]
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
                if r.returncode != 0:
                    fail(f"{where}: does not compile:\n{r.stderr}\n$ {shlex.join(cmd)}")
                    continue
                run = [prog, "routes"] if "vial_main(" in code else [prog]
                r = subprocess.run(run, capture_output=True, text=True, timeout=120, cwd=tmp)
                if r.returncode != 0:
                    fail(f"{where}: `{' '.join(os.path.basename(a) for a in run)}` exited {r.returncode}:\n"
                         f"{r.stdout}{r.stderr}")
    if count == 0:
        fail("no C blocks found")
    if failures:
        print(f"{len(failures)} problems in {count} snippets", file=sys.stderr)
        return 1
    print(f"ok: {count} C snippets compile, link and run; every vial name the pages mention exists")
    return 0


if __name__ == "__main__":
    sys.exit(main())
