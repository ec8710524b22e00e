#!/usr/bin/env bash
# Builds CAF's core, io and openssl libraries with ThreadSanitizer into a
# prefix, from the Debian source package of the libcaf-dev we build against
# (actor-framework 0.17.6). The cluster library links all three; io and
# openssl must be the instrumented build's too, as they pass messages to
# the core's mailboxes and share its reference counts.
#
# Why: ThreadSanitizer only sees the synchronisation of instrumented code.
# Debian's libcaf_core.so hands every message from thread to thread with
# atomics TSan cannot see, so against it the actor tests reported 1,743
# false races in three suites (message payloads written by the sender and
# read by the receiver, reference counts). Built with -fsanitize=thread the
# same library gives a clean report, so a race TSan finds is a real one.
#
# Usage: scripts/build-caf-tsan.sh PREFIX   (does nothing if PREFIX has all
# three; a prefix from before the cluster, core only, is built again)
set -euo pipefail
prefix=$(realpath -m "${1:?usage: $0 PREFIX}")
[ -f "$prefix/lib/libcaf_core.so" ] && [ -f "$prefix/lib/libcaf_io.so" ] \
  && [ -f "$prefix/lib/libcaf_openssl.so" ] && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A private apt state with a deb-src entry: the machine's own sources and
# package lists stay as they are.
mkdir -p "$work/lists/partial"
cat > "$work/sources.list" <<'EOF'
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
EOF
apt_private=(-o "Dir::Etc::SourceList=$work/sources.list"
             -o "Dir::Etc::SourceParts=$work/none"
             -o "Dir::State::Lists=$work/lists")
apt-get "${apt_private[@]}" update -qq
# Only the upstream tarball is needed (apt checks its hash against the
# signed .dsc); the mirror may lack the Debian packaging tarball, which
# makes apt-get exit non-zero after fetching the rest.
(cd "$work" && apt-get "${apt_private[@]}" source --download-only \
  actor-framework=0.17.6-2.1 >/dev/null 2>&1 || true)
tarball="$work/actor-framework_0.17.6.orig.tar.gz"
[ -f "$tarball" ] || { echo "could not fetch $tarball" >&2; exit 1; }
tar -xzf "$tarball" -C "$work"

# The io module's receive_buffer.hpp uses std::numeric_limits without
# including <limits>, which g++ 12's headers no longer bring in (Debian
# patches it; the upstream tarball does not have the patch): included for
# every file.
cmake -S "$work/actor-framework-0.17.6" -B "$work/build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -include limits" \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DCAF_NO_EXAMPLES=yes \
  -DCAF_NO_UNIT_TESTS=yes -DCAF_NO_TOOLS=yes -DCAF_NO_PYTHON=yes \
  -DCAF_NO_OPENCL=yes -DCAF_NO_SUMMARY=yes >/dev/null
cmake --build "$work/build" -j"$(nproc)"
cmake --install "$work/build" >/dev/null
