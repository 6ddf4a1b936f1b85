"""Archive of public records from social media.

Each stage of the pipeline is a plain function in this package that reads from and writes to
the bucket and returns the keys it wrote; the Airflow DAGs and the ``archiver`` command only
call these functions. Nothing in this package imports Airflow.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
