#!/usr/bin/env bash
# Train week 3's two models at once on one NVIDIA GPU, with Keras on its JAX backend (no TensorFlow
# needed there): the street U-Net (scripts/train_unet_street.py, the notebook's n_filters=32) and the
# street detector's head (scripts/train_street_detector_gpu.py). Each stops itself within its time
# budget and writes its weights and run record under $OUT; score the detector afterwards on a CPU
# machine with `train_street_detector_gpu.py --evaluate` (it needs TensorFlow and pycocotools).
#
#   OUT=/tmp/week3 bash scripts/gpu_week3_training.sh
#
# Needs jax with CUDA, keras 3.15.1 (+ namex, optree) and numpy. Where keras is missing, wheels in
# .whl/ are installed to /tmp/site first (docs/INSTRUCTOR.md, "Retraining week 3's models").
# Budgets in seconds, rendering included: UNET_SECONDS, DETECTOR_SECONDS. Results: $OUT/unet/
# (weights, architecture, run record, log), $OUT/detector.tar (head, checkpoints, gpu_run.json, log).
set -u
OUT=${OUT:?set OUT to a folder for the results}
mkdir -p "$OUT/unet"
if ! python3 -c "import keras" 2>/dev/null && compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD PYTHONUNBUFFERED=1 KERAS_BACKEND=${KERAS_BACKEND:-jax}
export XLA_PYTHON_CLIENT_MEM_FRACTION=0.4   # two processes share the GPU
UNET_SECONDS=${UNET_SECONDS:-420}
DETECTOR_SECONDS=${DETECTOR_SECONDS:-400}
DETECTOR_DIR=${DETECTOR_DIR:-/tmp/street_detector_gpu}
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; echo "cores $(nproc)"; date -u; } > "$OUT/machine.txt" 2>&1
if ! python3 -c "import jax, keras; print('jax', jax.__version__, 'keras', keras.__version__, jax.devices())" >> "$OUT/machine.txt" 2>&1; then
    echo "JAX with Keras failed; using Keras's PyTorch backend" >> "$OUT/machine.txt"
    export KERAS_BACKEND=torch
fi
cat "$OUT/machine.txt"

timeout -s TERM $((UNET_SECONDS + 60)) python3 scripts/train_unet_street.py \
    --n-filters 32 --train-frames "${UNET_FRAMES:-16000}" --heldout-frames 160 --workers "${UNET_WORKERS:-6}" \
    --batch-size 32 --learning-rate 1e-3 --epochs 60 --time-budget-s "$UNET_SECONDS" \
    --out-weights "$OUT/unet/unet_street_fp16.npz" --out-record "$OUT/unet/unet_street_run.json" \
    > "$OUT/unet/train.log" 2>&1 &
unet=$!
mkdir -p "$DETECTOR_DIR"
timeout -s TERM $((DETECTOR_SECONDS + 60)) python3 scripts/train_street_detector_gpu.py \
    --out "$DETECTOR_DIR" --workers "${DETECTOR_WORKERS:-10}" --train-frames "${DETECTOR_FRAMES:-40000}" \
    --time-budget-s "$DETECTOR_SECONDS" --batch 64 --checkpoint-s 45 \
    > "$DETECTOR_DIR/train.log" 2>&1 &
detector=$!
wait $detector; echo "detector exit $?"; tail -4 "$DETECTOR_DIR/train.log"
tar -cf "$OUT/detector.tar" -C "$(dirname "$DETECTOR_DIR")" "$(basename "$DETECTOR_DIR")"
wait $unet; echo "U-Net exit $?"; tail -3 "$OUT/unet/train.log"
