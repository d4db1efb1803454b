# Shared set-up of examples/pam/test/run.sh and the demo (examples/run-demo.sh), sourced,
# not run: the Debian packages, building pam_soidc.so and the test driver, and writing
# PAM service files into a private configuration directory (the driver reads it through
# pam_start_confdir, so nothing under /etc/pam.d is touched).

PAM_TEST_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PAM_EXAMPLE_DIR="$(cd "$PAM_TEST_DIR/.." && pwd)"
PAM_REPO="$(cd "$PAM_EXAMPLE_DIR/../.." && pwd)"
PAM_MODULE="$PAM_EXAMPLE_DIR/pam_soidc.so"
PAM_DRIVER="$PAM_TEST_DIR/pam_driver"

# pam_lib_install_deps: the Debian packages a fresh machine may lack (only what is missing).
pam_lib_install_deps() {
  local need=()
  [ -f /usr/include/security/pam_appl.h ] || need+=(libpam0g-dev)
  [ -f /usr/include/qrencode.h ] || need+=(libqrencode-dev)
  command -v qrencode >/dev/null || need+=(qrencode)
  command -v valgrind >/dev/null || need+=(valgrind)
  command -v curl >/dev/null || need+=(curl)
  command -v gcc >/dev/null || need+=(gcc)
  command -v make >/dev/null || need+=(make)
  command -v node >/dev/null || need+=(nodejs npm)
  if [ ${#need[@]} -gt 0 ]; then
    echo "pam: apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Another job may hold the dpkg lock on a shared machine: wait for it.
    (apt-get -o DPkg::Lock::Timeout=600 update -qq &&
      apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}") >/dev/null
  fi
}

# pam_lib_build LIBDIR: builds pam_soidc.so (rpath LIBDIR) and the test driver; runs
# `make build` first when LIBDIR has no libsoidc.so(.0).
pam_lib_build() {
  local libdir="$1"
  if [ ! -e "$libdir/libsoidc.so" ] || [ ! -e "$libdir/libsoidc.so.0" ]; then
    echo "pam: $libdir/libsoidc.so(.0) missing, running make build"
    make -C "$PAM_REPO" build >/dev/null
  fi
  make -C "$PAM_EXAMPLE_DIR" --no-print-directory SOIDC_LIBDIR="$libdir" all driver >/dev/null
}

# pam_lib_service CONFDIR NAME ARGS...: service NAME whose auth and account go through
# pam_soidc with these module arguments.
pam_lib_service() {
  local conf="$1" name="$2"
  shift 2
  {
    echo "auth required $PAM_MODULE $*"
    echo "account required $PAM_MODULE"
  } >"$conf/$name"
}
