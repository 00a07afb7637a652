#!/bin/bash
# One GPU session for the CUDA-graph work (issue 14): the CUDA tests, the step and training
# benchmarks (project eager, project graphed, cuDNN nn.RNN, floor), a paper-size epoch and
# J = 1, 4, 8 runs on one GPU; about 6 minutes, at most 9. Everything goes to $OUT (one .txt per
# part, summary.txt with each part's exit code and seconds, JSON where a benchmark writes one).
#
# Prepare here, once:  ../shared/gpu/wheels.sh        (gymnasium and submitit wheels into .whl/,
#                                                      which git ignores)
# Run on the GPU:      benchmarks/gpu_session.sh      (device run: carry [".whl"], timeout 600)
# Dry run on a CPU:    benchmarks/gpu_session.sh --cpu-smoke   (same parts, tiny sizes, OUT=/tmp/…)
set -u
cd "$(dirname "$0")/.."
smoke=0
[ "${1:-}" = "--cpu-smoke" ] && smoke=1
out=${OUT:-/tmp/gpu_session}
mkdir -p "$out"
if ! python3 -c "import gymnasium, submitit" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl || exit 3
fi
export PYTHONPATH=$PWD:/tmp/site${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1

# part NAME SECONDS COMMAND...: run COMMAND under a time limit into $out/NAME.txt
part() {
  local name=$1 limit=$2 start rc
  shift 2
  start=$(date +%s)
  echo "== $name: $*" | tee "$out/$name.txt"
  timeout "$limit" "$@" >> "$out/$name.txt" 2>&1
  rc=$?
  echo "$name rc=$rc $(( $(date +%s) - start ))s" | tee -a "$out/summary.txt"
  tail -n 25 "$out/$name.txt"
}

if [ $smoke = 1 ]; then
  dev=cpu
  step40=(--sizes 2 --repeats 1 --warmup 0 --threads 1 --variants project,graphed,eager,torch,floor)
  step250=(--sizes 1 --repeats 1 --warmup 0 --threads 1 --steps 250 --max-n 30
           --variants project,graphed,eager,torch,floor)
  epoch=(--hidden 16 --batch 16 --heads 31 --steps 5 --eval-steps 2 --epochs 2 --repeats 0)
  table=(--hidden 16 --batch 16 --heads 10 --steps 5 --repeats 1)
  jobs=(--hidden 16 --batch 16 --heads 3 --steps 5 --eval-steps 2 --epochs 2 --jobs 1 2 --cpus 1)
else
  dev=cuda
  step40=(--repeats 15)
  step250=(--steps 250 --max-n 100 --sizes 0,1 --repeats 10)
  epoch=(--hidden 500 --batch 256 --heads 31 --steps 600 --eval-steps 50 --epochs 3 --repeats 0)
  table=(--hidden 500 --batch 256 --heads 10 --steps 100 --repeats 3)
  jobs=(--jobs 1 4 8)
fi

part env 30 bash -c "date -u; nvidia-smi || true; python3 -c 'import torch, numpy; print(\"torch\", \
torch.__version__, \"cuda\", torch.version.cuda, torch.cuda.is_available() and \
torch.cuda.get_device_name()); print(\"numpy\", numpy.__version__)'; \
python3 -c 'import triton; print(\"triton\", triton.__version__)' || true"
# the CUDA tests: graphed = eager, resume bit-exact, seeds, memory at N = 2..100, train/sweep on cuda
part cuda_tests 150 python3 -m pytest -q -m cuda -p no:cacheprovider -rs \
  --junitxml="$out/cuda_tests.xml" tests/agents/test_graphs.py tests/test_device.py
part step_T40 75 python3 benchmarks/bench_step.py --device $dev --json "$out/step_T40.json" \
  "${step40[@]}"
part paper_epoch 120 python3 benchmarks/bench_train.py --device $dev "${epoch[@]}"
part step_T250 100 python3 benchmarks/bench_step.py --device $dev --json "$out/step_T250.json" \
  "${step250[@]}"
part jobs 150 python3 benchmarks/bench_jobs.py --device $dev --json "$out/jobs.json" "${jobs[@]}"
part train_table 75 python3 benchmarks/bench_train.py --device $dev "${table[@]}"
cat "$out/summary.txt"
