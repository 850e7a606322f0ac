"""Sphinx configuration: MyST Markdown pages, API from numpydoc docstrings, offline."""

import hzforecast

project = "hzforecast"
author = "hzforecast developers"
copyright = "2026, hzforecast developers"
release = hzforecast.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "numpydoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax served from the build, not a CDN
]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
autodoc_typehints = "none"
html_theme = "pydata_sphinx_theme"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_title = "hzforecast"
# everything is local: no intersphinx, no fetched resources at build time
suppress_warnings = ["myst.header"]
