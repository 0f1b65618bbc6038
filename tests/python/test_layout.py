"""The module against the headers: struct layouts, constant values, and
the functions declared (tests/check-python.sh runs it; a C compiler, $CC
or cc, compiles a small program printing what C says)."""

import ctypes as C
import os
import re
import shlex
import subprocess
import tempfile
import unittest

import libquota
from libquota import _ffi, constants

HERE = os.path.dirname(os.path.abspath(__file__))
INCLUDE = os.environ.get("LIBQUOTA_INCLUDE",
                         os.path.join(HERE, "..", "..", "include"))
HEADERS = ["quota.h", "quota_store.h", "quota_sqlite.h"]


def read(path):
    with open(path) as f:
        return f.read()


def header_text():
    return "\n".join(read(os.path.join(INCLUDE, h)) for h in HEADERS)


def c_facts():
    """name -> number, as the C compiler sees the headers."""
    lines = ['#include "quota.h"', '#include "quota_store.h"',
             '#include "quota_sqlite.h"', "#include <stddef.h>",
             "#include <stdio.h>", "int main(void)", "{"]
    for cname, py in _ffi.STRUCTS.items():
        lines.append('\tprintf("%s %%zu\\n", sizeof(%s));' % (cname, cname))
        for fname, _ in py._fields_:
            lines.append('\tprintf("%s.%s %%zu\\n", offsetof(%s, %s));'
                         % (cname, fname, cname, fname))
    for name in constants.__all__:
        lines.append('\tprintf("%s %%lld\\n", (long long)(%s));' % (name, name))
    lines += ["\treturn 0;", "}"]
    cc = shlex.split(os.environ.get("CC") or "cc")
    with tempfile.TemporaryDirectory(prefix="pylayout.") as d:
        src, exe = os.path.join(d, "layout.c"), os.path.join(d, "layout")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run(cc + ["-std=c11", "-I", INCLUDE, src, "-o", exe],
                       check=True)
        out = subprocess.run([exe], check=True, stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
    return {k: int(v) for k, v in (l.split() for l in out.splitlines())}


class Layout(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = c_facts()

    def test_structs(self):
        for cname, py in _ffi.STRUCTS.items():
            with self.subTest(struct=cname):
                self.assertEqual(self.c[cname], C.sizeof(py), "sizeof")
                for fname, _ in py._fields_:
                    self.assertEqual(self.c["%s.%s" % (cname, fname)],
                                     getattr(py, fname).offset, fname)

    def test_constant_values(self):
        for name in constants.__all__:
            with self.subTest(name=name):
                self.assertEqual(getattr(libquota, name), self.c[name])

    def test_every_header_constant_exposed(self):
        text = header_text()
        names = set(re.findall(r"^\s*#define (QUOTA_[A-Z0-9_]+)[ \t]", text,
                               re.M))
        names |= set(re.findall(r"\b(QUOTA_[A-Z0-9_]+) = ", text))
        skip = {"QUOTA_API", "QUOTA_ERR_LAST_", "QUOTA_MASK"}
        names = {n for n in names if n not in skip and not n.endswith("_INIT")
                 and not n.endswith("_H")}
        # X-macro error codes
        names |= {"QUOTA_" + n for n in re.findall(r"X\((E[A-Z]+|OK),", text)}
        missing = sorted(n for n in names if not hasattr(libquota, n))
        self.assertEqual(missing, [])


class Coverage(unittest.TestCase):
    def test_every_function_declared(self):
        decl = set(re.findall(r"QUOTA_API[^;(]*?\b(quota_[a-z0-9_]+)\(",
                              header_text()))
        self.assertGreater(len(decl), 95)
        self.assertEqual(sorted(decl - set(_ffi.CORE) - set(_ffi.SQLITE)), [])
        self.assertEqual(sorted((set(_ffi.CORE) | set(_ffi.SQLITE)) - decl), [])

    def test_argument_names(self):
        # _ffi.ARGNAMES (the names the argument checks use) as the headers
        # name the parameters
        text = re.sub(r"/\*.*?\*/", "", header_text(), flags=re.S)
        for m in re.finditer(r"QUOTA_API[^;(]*?\b(quota_[a-z0-9_]+)\(([^)]*)\)",
                             text):
            params = [p.strip() for p in m.group(2).split(",")]
            names = [re.search(r"(\w+)\s*(\[[^]]*\])?\s*$", p).group(1)
                     for p in params if p != "void"]
            with self.subTest(fn=m.group(1)):
                self.assertEqual(_ffi.ARGNAMES[m.group(1)].split(), names)

    def test_every_function_called(self):
        pkg = os.path.dirname(libquota.__file__)
        src = "".join(read(os.path.join(pkg, f))
                      for f in sorted(os.listdir(pkg)) if f.endswith(".py")
                      and f != "_ffi.py")
        unused = sorted(n for n in list(_ffi.CORE) + list(_ffi.SQLITE)
                        if not re.search(r"\b%s\b" % n, src))
        self.assertEqual(unused, [])


if __name__ == "__main__":
    unittest.main()
