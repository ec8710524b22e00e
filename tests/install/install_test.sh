#!/usr/bin/env bash
# Installs signoff into a temporary prefix and builds and runs a consumer
# project that finds it with find_package(signoff) and links
# signoff::signoff; then builds the Debian package from the same tree,
# unpacks it into a scratch root, starts the packaged server with the
# packaged settings, and builds the consumer against the unpacked root.
# Usage: install_test.sh SIGNOFF_SOURCE_DIR
# The compiler is $CXX when set. Everything temporary is removed at exit.
set -euo pipefail

source_dir=${1:?usage: install_test.sh SIGNOFF_SOURCE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/signoff-install-test.XXXXXX")
trap '[ -n "${SERVICE_PID:-}" ] && kill -9 "$SERVICE_PID" 2>/dev/null; rm -rf "$work"' EXIT
prefix=$work/prefix

step() { echo "+ $*" >&2; "$@"; }

# The library once, in Release, without its tests, examples and benchmarks.
step cmake -S "$source_dir" -B "$work/signoff" -DCMAKE_BUILD_TYPE=Release \
  -DSIGNOFF_BUILD_TESTS=OFF -DSIGNOFF_BUILD_EXAMPLES=OFF \
  -DSIGNOFF_BUILD_BENCHMARKS=OFF -DSIGNOFF_INSTALL=ON
step cmake --build "$work/signoff" -j2
step cmake --install "$work/signoff" --prefix "$prefix"

# What the install must hold (the library directory may be lib or lib64).
config_dir=$(cd "$prefix" && echo lib*/cmake/signoff)
for f in include/signoff/signoff.hpp \
         include/signoff/persistence/lmdb_store.hpp \
         include/signoff/model/approval.hpp \
         "$config_dir"/signoffConfig.cmake \
         "$config_dir"/signoffConfigVersion.cmake \
         "$config_dir"/signoffTargets.cmake \
         "$config_dir"/FindCAF.cmake \
         "$config_dir"/FindLMDB.cmake \
         bin/signoff; do
  [[ -e $prefix/$f ]] || { echo "missing from the install: $f" >&2; exit 1; }
done
if grep -q signoff_warnings "$prefix/$config_dir"/signoffTargets*.cmake; then
  echo "the private signoff_warnings target leaked into the export" >&2
  exit 1
fi
step "$prefix/bin/signoff" --help >/dev/null

# The consumer, finding only the installed package.
step cmake -S "$here/consumer" -B "$work/consumer" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
step cmake --build "$work/consumer" -j2
step "$work/consumer/consumer"

# The Debian package, from the same build tree.
step cpack -G DEB -B "$work/deb" --config "$work/signoff/CPackConfig.cmake"
deb=$(ls "$work"/deb/signoff_*.deb)
dpkg-deb --field "$deb" Depends | grep -q adduser \
  || { echo "the package does not depend on adduser" >&2; exit 1; }
root=$work/root
step dpkg-deb -x "$deb" "$root"
step dpkg-deb -e "$deb" "$work/control"
sh -n "$work/control/postinst"
for f in usr/bin/signoffd usr/bin/signoff \
         usr/lib/systemd/system/signoffd.service \
         usr/share/signoff/signoffd.toml \
         usr/include/signoff/signoff.hpp; do
  [[ -e $root/$f ]] || { echo "missing from the package: $f" >&2; exit 1; }
done
unit_binary=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' \
  "$root/usr/lib/systemd/system/signoffd.service")
[[ -x $root$unit_binary ]] \
  || { echo "the unit starts $unit_binary, not in the package" >&2; exit 1; }
step "$root/usr/bin/signoffd" --help >/dev/null

# The packaged settings file is read as shipped (the flags override its
# directory and port, as an operator's would).
coproc SERVICE { exec "$root/usr/bin/signoffd" \
  --config "$root/usr/share/signoff/signoffd.toml" \
  --data "$work/service-data" --port 0 2>&1; }
service=$SERVICE_PID
listening=false
while read -r line <&"${SERVICE[0]}"; do
  echo "$line"
  case $line in "signoffd listening on "*) listening=true; break ;; esac
done
$listening || { echo "the packaged signoffd did not listen" >&2; exit 1; }
kill -TERM "$service"
wait "$service"

step cmake -S "$here/consumer" -B "$work/deb-consumer" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$root/usr" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
step cmake --build "$work/deb-consumer" -j2
step "$work/deb-consumer/consumer"
