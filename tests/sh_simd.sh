#!/bin/bash
# sh_simd.sh — the SIMD path of the sampler kernels from the outside (issue 21): `version` names
# the path in use and the paths the CPU runs; QVAE_ISA forces one (the same samples as the
# default); an unknown or unsupported QVAE_ISA gives one error line, from `version` and from a
# sampler, and loses nothing (the commands before it ran).
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh

out=$(run 'version')
line=$(echo "$out" | grep '^SIMD kernels: ') || fail "version has no SIMD line: $out"
have=$(echo "$line" | sed -n 's/.*this CPU runs \([a-z0-9 ]*\);.*/\1/p')
[ -n "$have" ] || fail "version does not list the CPU's paths: $line"
best=${have##* }
echo "$line" | grep -q "^SIMD kernels: $best " || fail "default is not the best path ($best): $line"

# the sample summary (energies to 4 decimals, distinct states) without the timing
cmds='prior new chimera 2; prior random --seed 4; sampler use sa --sweeps 20; seed 9; sample 300'
for isa in $have; do
  out=$(QVAE_ISA=$isa run 'version' | grep '^SIMD kernels: ')
  echo "$out" | grep -q "^SIMD kernels: $isa " || fail "QVAE_ISA=$isa: $out"
  QVAE_ISA=$isa run "$cmds" | grep -E '^  (energy|distinct)' > "$T/$isa.txt"
  [ -s "$T/$isa.txt" ] || fail "QVAE_ISA=$isa: no sample summary"
  cmp -s "$T/$isa.txt" "$T/${have%% *}.txt" || fail "QVAE_ISA=$isa: samples differ from ${have%% *}"
done

QVAE_ISA=neon bad 'version' "QVAE_ISA: unknown instruction set 'neon'"
out=$(QVAE_ISA=neon $Q -c 'echo before; prior new chimera 1; sampler use gibbs; sample 5' 2>&1); rc=$?
[ $rc -ne 0 ] || fail "sampling with a bad QVAE_ISA succeeded"
echo "$out" | grep -q '^before$' || fail "the commands before the error did not run: $out"
[ "$(echo "$out" | grep -c '^error: ')" -eq 1 ] || fail "not one error line: $out"
echo "$out" | grep -q "^error: .*QVAE_ISA: unknown instruction set 'neon'" || fail "message: $out"
for isa in sse2 avx2 avx512; do
  case " $have " in *" $isa "*) continue ;; esac
  QVAE_ISA=$isa bad 'version' "QVAE_ISA: $isa: this CPU does not support it"
done
echo "ok: paths $have, default $best"
