"""One-shot set-up of Airflow for the production compose file (the ``airflow-init`` service).

Runs before the api-server, scheduler, dag-processor and triggerer start; safe to run again.

1. Refuses to go on if a secret that every Airflow component must share is missing or still a
   placeholder (fernet key, JWT secret, api secret key, admin password).
2. ``airflow db migrate``: creates or upgrades the metadata database in PostgreSQL.
3. Writes the admin's password into the password file of Airflow's simple auth manager
   (``AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE``), keeping other users' entries, so the
   password is the one in ``.env`` and is never generated into a log.
4. Reads the accounts file (``ARCHIVER_ACCOUNTS_FILE``) and reports, per account, whether its
   token variable is set; a missing token fails only that account's capture later, so it is a
   warning here, while an unreadable accounts file is an error.

Secrets are never printed. Exit status 0 when Airflow may start, 1 with a message otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REQUIRED_SECRETS = (
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW_ADMIN_PASSWORD",
)
PLACEHOLDER_MARK = "CHANGE-ME"
MIN_SECRET_LENGTH = 16


class InitError(Exception):
    """Airflow must not start; the message says what to change."""


def check_secrets(environ: dict[str, str]) -> None:
    """Raise InitError naming every required secret that is unset, too short or a placeholder."""
    bad = []
    for name in REQUIRED_SECRETS:
        value = environ.get(name, "").strip()
        if not value or PLACEHOLDER_MARK in value or len(value) < MIN_SECRET_LENGTH:
            bad.append(name)
    if bad:
        raise InitError(
            f"Set these in .env (at least {MIN_SECRET_LENGTH} characters, no CHANGE-ME): "
            f"{', '.join(bad)}. docs/production.md shows how to generate each."
        )
    try:
        from cryptography.fernet import Fernet

        for key in environ["AIRFLOW__CORE__FERNET_KEY"].split(","):  # "new,old" while rotating
            Fernet(key.strip())
    except ImportError:  # pragma: no cover - cryptography ships with Airflow
        pass
    except (ValueError, TypeError):
        raise InitError(
            "AIRFLOW__CORE__FERNET_KEY is not a Fernet key (32 url-safe base64-encoded bytes): "
            "generate one as docs/production.md shows."
        ) from None


def write_password(path: Path, user: str, password: str) -> bool:
    """Set ``user``'s password in the simple auth manager's JSON file; return whether it changed.

    Other users' entries are kept. The file is replaced atomically and readable only by its owner.
    """
    passwords: dict[str, str] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8") or "{}")
        except json.JSONDecodeError:
            loaded = {}
        if isinstance(loaded, dict):
            passwords = {str(key): str(value) for key, value in loaded.items()}
    if passwords.get(user) == password:
        return False
    passwords[user] = password
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".passwords-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(json.dumps(passwords) + "\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def check_accounts(environ: dict[str, str]) -> list[str]:
    """Return one line per configured account; raise InitError if the accounts file is unusable."""
    from archiver.config import Settings, load_accounts
    from archiver.errors import ConfigError

    try:
        accounts = load_accounts(settings=Settings())
    except ConfigError as error:
        raise InitError(str(error)) from None
    lines = [f"organisation: {accounts.organisation}"]
    for account in accounts.accounts:
        state = "token set" if environ.get(account.token_env, "").strip() else "NO TOKEN"
        lines.append(f"  {account.name} ({account.platform} {account.id}): {account.token_env} {state}")
    return lines


def main() -> int:
    """Prepare Airflow; return the process exit status."""
    environ = dict(os.environ)
    try:
        check_secrets(environ)
        print("airflow-init: migrating the metadata database", flush=True)
        migrated = subprocess.run(["airflow", "db", "migrate"], check=False)
        if migrated.returncode != 0:
            raise InitError("`airflow db migrate` failed (see above); is PostgreSQL reachable?")
        passwords_file = Path(
            environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", "").strip()
            or "/opt/airflow/auth/passwords.json"
        )
        user = environ.get("AIRFLOW_ADMIN_USER", "").strip() or "admin"
        changed = write_password(passwords_file, user, environ["AIRFLOW_ADMIN_PASSWORD"].strip())
        print(f"airflow-init: password of '{user}' {'set' if changed else 'unchanged'}", flush=True)
        for line in check_accounts(environ):
            print(f"airflow-init: {line}", flush=True)
    except InitError as error:
        print(f"airflow-init: {error}", file=sys.stderr, flush=True)
        return 1
    print("airflow-init: done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
