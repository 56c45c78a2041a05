"""Build of the compiled kernels; everything else is declared in pyproject.toml.

``netcoreset.sampler._kernels`` is a plain shared library (no Python API) that
:mod:`netcoreset.sampler.native` loads with ctypes from the installed package folder. It is
compiled here, when the package is built or installed, with the machine's C compiler. The
extension is optional: where no compiler works the package installs without it and uses its
pure-torch path, which gives the same results bit for bit.
"""

from __future__ import annotations

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# No -ffast-math and no contraction: every product is a plain IEEE multiplication, so the
# kernels agree bit for bit with the torch path.
_FLAGS = ["-O3", "-ffp-contract=off", "-std=c99"]


class _BuildKernels(build_ext):
    """Try ``-march=native`` first, then portable flags; a failure leaves the package
    without the kernels (``optional=True``), never without an install."""

    def build_extension(self, ext: Extension) -> None:
        base = list(ext.extra_compile_args or [])
        try:
            ext.extra_compile_args = [*base, "-march=native"]
            super().build_extension(ext)
        except Exception:  # noqa: BLE001 - the compiler rejected -march=native: retry without
            ext.extra_compile_args = base
            super().build_extension(ext)


setup(
    ext_modules=[
        Extension(
            "netcoreset.sampler._kernels",
            sources=["sampler/_kernels.c"],
            extra_compile_args=_FLAGS,
            libraries=["m"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": _BuildKernels},
)
