#!/bin/bash
# A catalogue on a Slurm cluster: one array task per shard, each mastering its 1/N of the manifest with the same
# command. Shards are a stable split by output name (docs/manifest.md), so the tasks never overlap and a task
# that dies is simply resubmitted: its rerun skips the tracks it finished (README "Usage", resume).
#
#   sbatch --array=1-64 docs/slurm-array.sh catalogue.csv /shared/masters
#
#SBATCH --job-name=lathe-catalogue
#SBATCH --cpus-per-task=16
#SBATCH --gres=gpu:1
#SBATCH --time=12:00:00
#SBATCH --requeue
set -euo pipefail
manifest=${1:?manifest file}
outdir=${2:?output folder (shared by every task)}
shards=${SLURM_ARRAY_TASK_COUNT:?run with sbatch --array=1-N}
shard=${SLURM_ARRAY_TASK_ID:?run with sbatch --array=1-N}
mkdir -p "$outdir/reports"
exec lathe master --manifest "$manifest" -o "$outdir" --shard "$shard/$shards" \
  --profile streaming --engine auto -q --report "$outdir/reports/shard-$shard-of-$shards.json"
