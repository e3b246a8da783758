"""Packaging for iqa_keras (Keras 3 on the TensorFlow backend)."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent

setup(
    name="iqa_keras",
    version="0.1.0",
    description="Keras 3 model zoo for image quality assessment (FR networks, NIMA, IQA losses)",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=find_packages(include=["iqa_keras", "iqa_keras.*"]),
    package_data={"iqa_keras": ["ranking/weights/*"]},
    include_package_data=True,
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3.0",
        "numpy",
        "scipy",
        "pandas",
        "h5py",
        "pillow",
        "scikit-image",
        "matplotlib",
    ],
    extras_require={"test": ["pytest"]},
    entry_points={"console_scripts": ["iqa-keras=iqa_keras.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: Apache Software License",
        "Topic :: Scientific/Engineering :: Image Recognition",
    ],
)
