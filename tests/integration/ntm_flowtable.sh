#!/bin/sh
# nym-ntm's flowtable on a kernel that has one: this machine's kernel may lack
# nf_flow_table, so tests/vm/ntm_flowtable.sh runs in a VM booting Debian's kernel
# (tests/vm/boot.sh), against this build.
set -u
cd "$(dirname "$0")/../.."
exec tests/vm/boot.sh --mem 2048 env NYM_BUILD="${NYM_BUILD:-build}" sh tests/vm/ntm_flowtable.sh
