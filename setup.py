"""Build shim: the metadata is in pyproject.toml; this adds the package layout pyproject cannot express.

The shipped models (``models/``) and configs (``configs/``) have one copy in
the repository, at the top level where the evaluation scripts and the
documentation name them; a wheel carries them inside the package as
``iqa_keras/shipped/models`` and ``iqa_keras/shipped/configs`` (see
``iqa_keras/resources.py``, which finds either).
"""
from setuptools import find_packages, setup

SHIPPED = {"iqa_keras.shipped.models": "models", "iqa_keras.shipped.configs": "configs"}

setup(
    packages=find_packages(include=["iqa_keras", "iqa_keras.*"]) + list(SHIPPED),
    package_dir=SHIPPED,
    package_data={
        "iqa_keras": ["ranking/weights/*.weights.h5"],
        "iqa_keras.shipped.models": ["*.keras", "*/*.keras", "manifest.json", "README.md"],
        "iqa_keras.shipped.configs": ["*.toml", "*/*.toml"],
    },
    include_package_data=False,
)
