from pathlib import Path
from setuptools import find_namespace_packages
from setuptools import setup


long_description = "\n\n".join(
    Path(name).read_text() for name in ("README.rst", "CHANGES.rst")
)

setup(
    name="collective.crontab",
    version="1.0.0a1.dev0",
    description=(
        "A crontab for Plone 6: cron jobs in the registry, one clock, a run log."
    ),
    long_description=long_description,
    long_description_content_type="text/x-rst",
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Environment :: Web Environment",
        "Framework :: Plone",
        "Framework :: Plone :: 6.2",
        "Framework :: Plone :: Addon",
        "Framework :: Zope :: 5",
        "License :: OSI Approved :: GNU General Public License v2 (GPLv2)",
        "Programming Language :: Python :: 3.11",
    ],
    keywords="Plone cron crontab scheduler clock-server",
    author="collective.crontab developers",
    url="https://pypi.org/project/collective.crontab",
    license="GPL version 2",
    packages=find_namespace_packages("src", include=["collective.*"]),
    package_dir={"": "src"},
    include_package_data=True,
    zip_safe=False,
    python_requires=">=3.11",
    install_requires=[
        "Products.CMFPlone>=6.2",
        "plone.registry",
        "plone.app.registry",
        "plone.restapi",
        "z3c.form",
    ],
    extras_require={
        # RelStorage on PostgreSQL: psycopg2 builds against the system's
        # libpq (Debian: libpq-dev), as RelStorage's own extra asks.
        "relstorage": ["RelStorage[postgresql]"],
        "test": [
            "plone.app.testing",
            "plone.app.contenttypes",
            "cronsim",
            "croniter",  # the benchmark's naive tick
            "hypothesis",
            "playwright",
            "ZEO",
            "zope.testrunner",
        ],
    },
    entry_points="""
    [z3c.autoinclude.plugin]
    target = plone
    [console_scripts]
    crontab-ctl = collective.crontab.cli:main
    """,
)
