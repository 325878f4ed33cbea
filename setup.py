"""Builds the engine's C++ extensions, ``omniroute._core`` and ``omniroute._exact`` (everything
else is in pyproject.toml)."""

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

setup(
    ext_modules=[
        Pybind11Extension(
            "omniroute._core",
            ["engine/_core.cpp"],
            cxx_std=17,
            extra_compile_args=["-O2"],
        ),
        Pybind11Extension(
            "omniroute._exact",
            ["engine/_exact.cpp"],
            cxx_std=17,
            extra_compile_args=["-O2"],
        ),
    ],
    cmdclass={"build_ext": build_ext},
)
