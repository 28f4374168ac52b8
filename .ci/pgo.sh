#!/usr/bin/env bash
# Profile-guided build of the `allseq` binary: target/pgo/allseq.
#
#   .ci/pgo.sh
#
# 1. builds an instrumented `release` binary (target/pgo/gen),
# 2. runs it on a training workload: `run` on the three shipped scenarios, a small `psa` and a
#    small `dsa` of the default adult scenario (a few seconds on two cores),
# 3. merges the profiles with the toolchain's own llvm-profdata (rustup component llvm-tools;
#    installed here if missing: it must match the compiler's LLVM),
# 4. builds `release` again with the profiles (target/pgo/use) and copies it to target/pgo/allseq,
# 5. runs the optimised binary on the same workload and checks that every output file but
#    manifest.json (timings, memory) is byte-identical to the instrumented binary's, which is
#    the plain build's code with counters added. PGO only moves and inlines code; a difference
#    here is a bug in the build, and the script fails.
#
# The flags go through `--config build.rustflags`, which Cargo adds to .cargo/config.toml's
# (functions aligned to 64 bytes); a RUSTFLAGS in the environment would replace both, so it is
# refused. README, "Release profile", has the measured gain.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${RUSTFLAGS:-}" ]; then
    echo "pgo.sh: unset RUSTFLAGS: it would replace the profile flags and .cargo/config.toml's" >&2
    exit 2
fi
host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
    command -v rustup >/dev/null 2>&1 || {
        echo "pgo.sh: needs $profdata (rustup's llvm-tools component) and there is no rustup" >&2
        exit 2
    }
    rustup component add llvm-tools
fi

root=$PWD/target/pgo
rm -rf "$root/profiles" "$root/train"
mkdir -p "$root/profiles" "$root/train"

build() { # <target dir> <rustflag>
    cargo build --release --quiet --target-dir "$1" --config "build.rustflags=[\"$2\"]"
}

train() { # <binary> <output dir>
    local bin=$1 out=$2
    "$bin" run scenarios/adult_rr_ball.toml --patients 100000 --threads 2 --quiet --out "$out/adult"
    "$bin" run scenarios/pediatric_rr_ball.toml --patients 30000 --threads 2 --quiet --out "$out/pediatric"
    "$bin" run scenarios/adult_rr_ball_nice.toml --patients 30000 --threads 2 --quiet --out "$out/nice"
    "$bin" psa scenarios/adult_rr_ball.toml --draws 40 --patients 2000 --threads 2 --quiet --out "$out/psa"
    "$bin" dsa scenarios/adult_rr_ball.toml --patients 2000 --threads 2 --quiet --out "$out/dsa"
}

echo "== pgo: instrumented build"
build "$root/gen" "-Cprofile-generate=$root/profiles"
echo "== pgo: training runs"
train "$root/gen/release/allseq" "$root/train/instrumented"
"$profdata" merge -o "$root/merged.profdata" "$root/profiles"
echo "== pgo: optimised build"
build "$root/use" "-Cprofile-use=$root/merged.profdata"
cp "$root/use/release/allseq" "$root/allseq"
echo "== pgo: outputs of the optimised binary against the instrumented one"
train "$root/allseq" "$root/train/optimised"
if ! diff -r -q -x manifest.json "$root/train/instrumented" "$root/train/optimised"; then
    echo "pgo.sh: the profile-guided binary's outputs differ from the plain code's" >&2
    exit 1
fi
echo "pgo: $root/allseq built; its outputs are byte-identical"
