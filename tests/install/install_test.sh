#!/usr/bin/env bash
# Installs signoff into a temporary prefix and builds and runs a consumer
# project that finds it with find_package(signoff) and links
# signoff::signoff. Usage: install_test.sh SIGNOFF_SOURCE_DIR
# The compiler is $CXX when set. Everything temporary is removed at exit.
set -euo pipefail

source_dir=${1:?usage: install_test.sh SIGNOFF_SOURCE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/signoff-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
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
