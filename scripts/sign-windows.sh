#!/usr/bin/env bash
# Authenticode-signs Windows files in place with osslsigncode (`make windows`
# calls it for dist/*.exe and dist/inkan.msi when a signing certificate is
# configured; make test calls it with a throw-away one).
#
#   scripts/sign-windows.sh FILE...
#
# The certificate comes from the environment, never from the repository:
#   INKAN_SIGN_PFX            a .pfx/.p12 with the code-signing key and certificate, or
#   INKAN_SIGN_PKCS11_MODULE  a PKCS#11 module (token), with
#   INKAN_SIGN_PKCS11_KEY     the key's PKCS#11 URI (pkcs11:token=...;object=...) and
#   INKAN_SIGN_CERT           the certificate (PEM or DER) that goes with it;
#   INKAN_SIGN_PASSWORD_FILE  a file holding the .pfx password or the token PIN
#                             (a file, so that it is in no process listing);
#   INKAN_SIGN_TIMESTAMP_URL  an RFC 3161 time-stamping server (optional but
#                             advised: the signature then outlives the certificate).
# Without INKAN_SIGN_PFX and INKAN_SIGN_PKCS11_MODULE it signs nothing and says so.
set -euo pipefail

die() { echo "sign-windows: $*" >&2; exit 1; }
[ $# -gt 0 ] || die "usage: scripts/sign-windows.sh FILE..."
command -v osslsigncode >/dev/null || die "osslsigncode is missing: run scripts/install-deps.sh"

args=(-h sha256 -n Inkan -i https://github.com/inkan-dev/inkan)
pass=()
if [ -n "${INKAN_SIGN_PASSWORD_FILE:-}" ]; then
  [ -r "$INKAN_SIGN_PASSWORD_FILE" ] || die "INKAN_SIGN_PASSWORD_FILE=$INKAN_SIGN_PASSWORD_FILE cannot be read"
  pass=(-readpass "$INKAN_SIGN_PASSWORD_FILE")
fi
if [ -n "${INKAN_SIGN_PFX:-}" ]; then
  [ -r "$INKAN_SIGN_PFX" ] || die "INKAN_SIGN_PFX=$INKAN_SIGN_PFX cannot be read"
  args+=(-pkcs12 "$INKAN_SIGN_PFX")
elif [ -n "${INKAN_SIGN_PKCS11_MODULE:-}" ]; then
  [ -n "${INKAN_SIGN_PKCS11_KEY:-}" ] && [ -n "${INKAN_SIGN_CERT:-}" ] ||
    die "INKAN_SIGN_PKCS11_MODULE needs INKAN_SIGN_PKCS11_KEY (a pkcs11: URI) and INKAN_SIGN_CERT"
  args+=(-pkcs11module "$INKAN_SIGN_PKCS11_MODULE" -key "$INKAN_SIGN_PKCS11_KEY" -certs "$INKAN_SIGN_CERT")
else
  echo "sign-windows: no signing certificate configured (INKAN_SIGN_PFX or INKAN_SIGN_PKCS11_MODULE): $* left unsigned"
  exit 0
fi
if [ -n "${INKAN_SIGN_TIMESTAMP_URL:-}" ]; then
  args+=(-ts "$INKAN_SIGN_TIMESTAMP_URL")
fi

for f in "$@"; do
  [ -f "$f" ] || die "$f does not exist"
  osslsigncode sign "${args[@]}" "${pass[@]}" -in "$f" -out "$f.signed" >/dev/null ||
    { rm -f "$f.signed"; die "osslsigncode could not sign $f"; }
  mv "$f.signed" "$f"
  echo "sign-windows: signed $f"
done
