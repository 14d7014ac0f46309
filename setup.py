from setuptools import find_packages, setup

setup(
    name="symtensor",
    version="0.1.0",
    description="A symbolic tensor compiler: write math, get native code and exact gradients.",
    packages=find_packages(include=["symtensor", "symtensor.*"]),
    python_requires=">=3.10",
    install_requires=["numpy>=1.24", "scipy>=1.10", "cffi>=1.15"],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6"],
        "bench": ["torch>=2.0,<=2.13.0", "pytensor", "matplotlib", "tqdm"],
        "cuda": ["pycuda"],
        "doc": [],
    },
    entry_points={"console_scripts": ["symtensor-bench=symtensor.bench.runner:main"]},
)
