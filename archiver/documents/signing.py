"""Optional seal on finished documents: a PAdES signature (pyHanko), with an RFC 3161 timestamp.

A document is validated as PDF/A first and sealed afterwards, because the offline validator
cannot approve signed files. The seal is an incremental update with an invisible signature
field; :func:`sign` keeps the XMP and DocInfo byte for byte (pyHanko would rewrite them) and
checks that the increment adds only signature objects. The key must be RSA: an ECDSA key
makes pyHanko declare PDF 2.0, which PDF/A-3 forbids.

Configured with ``ARCHIVER_SIGNING_CERT`` (PKCS#12, or PEM with ``ARCHIVER_SIGNING_KEY``),
``ARCHIVER_SIGNING_KEY_PASSWORD_ENV`` (the *name* of the variable holding the passphrase) and
optionally ``ARCHIVER_TIMESTAMP_URL``; see ``docs/signing.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pikepdf
from pikepdf import Name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from archiver.config import Settings
from archiver.errors import DocumentError

FIELD_NAME = "ArchiveSeal"


@dataclass(frozen=True)
class SigningSettings:
    """Where the seal's key and certificate are and which timestamp service to use."""

    cert: Path
    """PKCS#12 file (``.p12``/``.pfx``), or a PEM/DER certificate when ``key`` is set."""
    key: Path | None = None
    password_env: str | None = None
    """Name of the environment variable holding the passphrase."""
    timestamp_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SigningSettings | None:
        """Return the signing settings, or None when no signing certificate is configured."""
        if settings.signing_cert is None:
            return None
        return cls(
            cert=settings.signing_cert,
            key=settings.signing_key,
            password_env=settings.signing_key_password_env,
            timestamp_url=settings.timestamp_url,
        )


class _KeepMetaWriter(IncrementalPdfFileWriter):
    """pyHanko's incremental writer without its XMP/DocInfo rewrite (private hook, tested)."""

    def _update_meta(self) -> None:
        pass


def sign(pdf: bytes, settings: SigningSettings) -> bytes:
    """Return ``pdf`` with a PAdES B-B seal (B-T when a timestamp URL is set) appended."""
    signer = _load_signer(settings)
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    timestamper = HTTPTimeStamper(settings.timestamp_url, timeout=30) if settings.timestamp_url else None
    pdf_signer = signers.PdfSigner(metadata, signer=signer, timestamper=timestamper)
    out = BytesIO()
    try:
        pdf_signer.sign_pdf(_KeepMetaWriter(BytesIO(pdf)), output=out)
    except Exception as error:  # pyHanko raises many types (TSA down, bad key, ...)
        where = f" or the timestamp service {_without_userinfo(settings.timestamp_url)}" if settings.timestamp_url else ""
        raise DocumentError(
            f"Sealing failed: {type(error).__name__}: {error}. Check the signing certificate{where}."
        ) from error
    signed = out.getvalue()
    problems = increment_problems(pdf, signed)
    if problems:
        raise DocumentError("The seal changed more than the signature: " + "; ".join(problems))
    return signed


def _without_userinfo(url: str) -> str:
    """Return ``url`` without a ``user:password@`` part, so credentials never reach a message."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


def _load_signer(settings: SigningSettings) -> signers.SimpleSigner:
    passphrase = _passphrase(settings.password_env)
    if not settings.cert.is_file():
        raise DocumentError(f"Signing certificate {settings.cert} not found: fix ARCHIVER_SIGNING_CERT.")
    if settings.key is None:
        signer = signers.SimpleSigner.load_pkcs12(  # type: ignore[no-untyped-call]
            str(settings.cert), passphrase=passphrase
        )
    else:
        if not settings.key.is_file():
            raise DocumentError(f"Signing key {settings.key} not found: fix ARCHIVER_SIGNING_KEY.")
        signer = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
            str(settings.key), str(settings.cert), key_passphrase=passphrase
        )
    if signer is None:
        raise DocumentError(
            f"Could not load the signing key and certificate from {settings.cert}: check the files "
            f"and the passphrase in {settings.password_env or '(no passphrase variable set)'}."
        )
    algorithm = signer.signing_cert.public_key.algorithm
    if algorithm != "rsa":
        raise DocumentError(
            f"The signing key is {algorithm.upper()}; use an RSA key (ECDSA makes the file PDF 2.0, "
            "which PDF/A-3 forbids)."
        )
    loaded: signers.SimpleSigner = signer
    return loaded


def _passphrase(env: str | None) -> bytes | None:
    if not env:
        return None
    value = os.environ.get(env)
    if value is None:
        raise DocumentError(f"The signing passphrase variable {env} is not set: export it or unset "
                            "ARCHIVER_SIGNING_KEY_PASSWORD_ENV.")
    return value.encode("utf-8")


_SIG_KEYS_ON_ROOT = {"/AcroForm", "/Perms", "/Extensions", "/DSS"}
_SIG_KEYS_ON_PAGE = {"/Annots"}


def increment_problems(original: bytes, signed: bytes) -> list[str]:
    """Return how the signed file differs from ``original`` beyond adding signature objects."""
    if not signed.startswith(original):
        return ["the signed file does not start with the original bytes (not an incremental update)"]
    with pikepdf.open(BytesIO(original)) as before, pikepdf.open(BytesIO(signed)) as after:
        old = {obj.objgen: obj for obj in before.objects if obj.objgen != (0, 0)}
        problems = []
        root = before.Root.objgen
        pages = {page.obj.objgen for page in before.pages}
        for obj in after.objects:
            key = obj.objgen
            if key == (0, 0):
                continue
            if key not in old:
                if not _is_signature_object(obj):
                    problems.append(f"new object {key[0]} is not a signature object")
                continue
            allowed = _SIG_KEYS_ON_ROOT if key == root else _SIG_KEYS_ON_PAGE if key in pages else set()
            if _fingerprint(old[key], allowed) != _fingerprint(obj, allowed):
                problems.append(f"object {key[0]} was changed")
    return problems


def _is_signature_object(obj: Any) -> bool:
    if isinstance(obj, pikepdf.Array):
        return all(isinstance(item, pikepdf.Dictionary) and _is_signature_object(item) for item in obj)
    if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        return False
    kind, subtype = obj.get("/Type"), obj.get("/Subtype")
    return bool(
        kind in (Name.Sig, Name.DocTimeStamp, Name.XRef)
        or (subtype == Name.Widget and obj.get("/FT") == Name.Sig)
        or "/Fields" in obj  # AcroForm
        or (subtype == Name.Form and kind in (None, Name.XObject))  # the widget's empty appearance
    )


def _fingerprint(obj: Any, ignored: set[str]) -> bytes:
    """Return a comparable serialisation of one object (references as ``n g R``), minus ``ignored`` keys."""
    if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        ignored = ignored | {"/Length"} if isinstance(obj, pikepdf.Stream) else ignored
        parts = [key.encode() + _unparse(value) for key, value in sorted(obj.items()) if key not in ignored]
        body = obj.read_raw_bytes() if isinstance(obj, pikepdf.Stream) else b""
        return b" ".join(parts) + b"|" + body
    return _unparse(obj)


def _unparse(value: Any) -> bytes:
    if isinstance(value, pikepdf.Object):
        return bytes(value.unparse())
    return repr(value).encode()


def verify_signature(pdf: bytes, trust_roots: list[bytes] | None = None) -> dict[str, object]:
    """Return a summary of the document's signatures: signed, count and per seal intact/valid/timestamp.

    ``valid`` means the signature is intact and cryptographically sound; ``trusted`` also needs the
    signer's certificate to chain to one of ``trust_roots`` (DER or PEM certificates).
    """
    from asn1crypto import pem, x509

    reader = PdfFileReader(BytesIO(pdf))
    roots = []
    for data in trust_roots or []:
        der = pem.unarmor(data)[2] if pem.detect(data) else data
        roots.append(x509.Certificate.load(der))
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    seals: list[dict[str, object]] = []
    for embedded in reader.embedded_signatures:
        status = validate_pdf_signature(
            embedded, signer_validation_context=context, ts_validation_context=context
        )
        timestamp = status.timestamp_validity
        seals.append(
            {
                "field": embedded.field_name,
                "intact": bool(status.intact),
                "valid": bool(status.valid),
                "trusted": bool(status.trusted),
                "signer": status.signing_cert.subject.human_friendly,
                "signing_time": str(status.signer_reported_dt) if status.signer_reported_dt else None,
                "timestamp": timestamp is not None,
                "timestamp_valid": bool(timestamp.valid) if timestamp is not None else None,
                "timestamp_time": str(timestamp.timestamp) if timestamp is not None else None,
                "covers_whole_file": embedded.coverage.name == "ENTIRE_FILE",
            }
        )
    return {"signed": bool(seals), "count": len(seals), "seals": seals}
