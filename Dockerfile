# syntax=docker/dockerfile:1
# Production image of the social media archive: Airflow 3 with the archiver installed.
# The base image's tag must match the apache-airflow pin in requirements.txt
# (tests/test_compose.py checks it).
FROM apache/airflow:3.3.2-python3.11

LABEL org.opencontainers.image.title="social-archiver" \
      org.opencontainers.image.description="Archive of public records from social media, run by Airflow" \
      org.opencontainers.image.licenses="Apache-2.0"

# /opt/archiver holds the project (the archiver package, templates, docker/ scripts);
# /opt/airflow/auth holds the simple auth manager's password file (a named volume).
USER root
RUN mkdir -p /opt/archiver /opt/airflow/auth \
    && chown airflow:0 /opt/archiver /opt/airflow/auth \
    && chmod 0750 /opt/airflow/auth
USER airflow

# Dependencies first, so a change in the code does not reinstall them. requirements.txt pins
# apache-airflow to the version of the base image, so pip keeps the image's Airflow.
COPY --chown=airflow:0 requirements.txt /opt/archiver/requirements.txt
RUN pip install --no-cache-dir -r /opt/archiver/requirements.txt

# The project itself (see .dockerignore for what stays out: secrets, local config, caches).
# Editable, so templates/ and docker/ are found next to the package as in a checkout.
COPY --chown=airflow:0 . /opt/archiver
RUN pip install --no-cache-dir --no-deps -e /opt/archiver

COPY --chown=airflow:0 dags/ /opt/airflow/dags/

ENV ARCHIVER_ACCOUNTS_FILE=/opt/archiver/config/accounts.yaml

WORKDIR /opt/airflow
