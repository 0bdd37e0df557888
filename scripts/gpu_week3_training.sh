#!/usr/bin/env bash
# Train week 3's two models on one NVIDIA GPU, with Keras on its JAX backend (no TensorFlow needed
# there), in two calls of under 10 minutes each:
#
#   OUT=/tmp/week3 bash scripts/gpu_week3_training.sh
#       stage 1 of the street U-Net (scripts/train_unet_street.py, the notebook's n_filters=32) and,
#       next to it, stage 1 of the street detector's head, its trunk (scripts/train_street_detector_gpu.py)
#   STAGE=2 FIRST_STAGE=/tmp/week3/unet OUT=/tmp/week3b bash scripts/gpu_week3_training.sh
#       stage 2 of the U-Net: from stage 1's best weights, more frames, a lower learning rate; its
#       run record keeps stage 1's as first_stage
#
# Each run stops itself within its time budget and writes its weights and run record under $OUT.
# Score the detector's trunk afterwards on a CPU machine with `train_street_detector_gpu.py --evaluate`
# (it needs TensorFlow and pycocotools), then train its stage 2 there (`train_street_detector.py`;
# see docs/INSTRUCTOR.md, "Retraining week 3's models").
# Needs jax with CUDA, keras 3.15.1 (+ namex, optree) and numpy. Where keras is missing, wheels in
# .whl/ are installed to /tmp/site first. Budgets in seconds, rendering included: UNET_SECONDS,
# DETECTOR_SECONDS (the shipped run's values are the defaults). Results: $OUT/unet/ (weights,
# architecture, run record, log) and, in stage 1, $OUT/detector.tar (head, checkpoints, gpu_run.json, log).
set -u
OUT=${OUT:?set OUT to a folder for the results}
mkdir -p "$OUT/unet"
if ! python3 -c "import keras" 2>/dev/null && compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD PYTHONUNBUFFERED=1 KERAS_BACKEND=${KERAS_BACKEND:-jax}
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; echo "cores $(nproc)"; date -u; } > "$OUT/machine.txt" 2>&1
if ! python3 -c "import jax, keras; print('jax', jax.__version__, 'keras', keras.__version__, jax.devices())" >> "$OUT/machine.txt" 2>&1; then
    echo "JAX with Keras failed; using Keras's PyTorch backend" >> "$OUT/machine.txt"
    export KERAS_BACKEND=torch
fi
cat "$OUT/machine.txt"

if [ "${STAGE:-1}" = 2 ]; then
    FIRST_STAGE=${FIRST_STAGE:?set FIRST_STAGE to the folder with the unet_street_fp16.npz and unet_street_run.json of stage 1}
    UNET_SECONDS=${UNET_SECONDS:-285}
    timeout -s TERM $((UNET_SECONDS + 60)) python3 scripts/train_unet_street.py \
        --n-filters 32 --train-frames 24000 --heldout-frames 160 --workers 16 --batch-size 32 \
        --learning-rate 3e-4 --warmup-epochs 0.2 --epochs 40 --time-budget-s "$UNET_SECONDS" \
        --init "$FIRST_STAGE/unet_street_fp16.npz" --first-stage-record "$FIRST_STAGE/unet_street_run.json" \
        --out-weights "$OUT/unet/unet_street_fp16.npz" --out-record "$OUT/unet/unet_street_run.json" \
        > "$OUT/unet/train.log" 2>&1
    echo "U-Net stage 2 exit $?"; tail -3 "$OUT/unet/train.log"
    exit 0
fi

export XLA_PYTHON_CLIENT_MEM_FRACTION=0.4   # two processes share the GPU
UNET_SECONDS=${UNET_SECONDS:-440}
DETECTOR_SECONDS=${DETECTOR_SECONDS:-420}
DETECTOR_DIR=${DETECTOR_DIR:-/tmp/street_detector_gpu}
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
