#!/usr/bin/env bash
# Must-show 2 of issue 5 from the command line: a folder with a corrupt JPEG, a truncated PNG, an empty file, a CMYK
# JPEG, a grayscale PNG and a text file (plus a few ordinary images) trains to the end; the bad files are named in the
# log and counted in every epoch's summary. Needs only bash and coreutils (the good images are the committed fixtures
# in src-test-data/images); bin/hgkd builds on first use.
#
#   tools/data/bad_files_demo.sh [WORK_DIR]      (default: a new temporary folder)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${1:-$(mktemp -d -t hgkd-bad-files.XXXXXX)}"
DATA="$WORK/images"
IMG="$ROOT/src-test-data/images"
mkdir -p "$DATA/good" "$DATA/bad"

# good (and readable despite being unusual): RGB PNG, baseline and progressive JPEG, CMYK JPEG, 8-bit grayscale PNG
cp "$IMG/photo.png" "$DATA/good/photo.png"
cp "$IMG/photo_q90.jpg" "$DATA/good/photo.jpg"
cp "$IMG/progressive.jpg" "$DATA/good/progressive.jpg"
cp "$IMG/cmyk.jpg" "$DATA/good/cmyk.jpg"
cp "$IMG/ref_gray.png" "$DATA/good/gray.png"
cp "$IMG/ref_rrc_bicubic.png" "$DATA/good/crop.png"
cp "$IMG/ref_up_bicubic.png" "$DATA/good/up.png"
cp "$IMG/ref_wide_bilinear.png" "$DATA/good/wide.png"

# bad: random bytes behind a JPEG header, the first half of a PNG, nothing, and text named like an image
{ printf '\xff\xd8\xff\xe0'; head -c 4096 /dev/urandom; } > "$DATA/bad/corrupt.jpg"
PNG_BYTES=$(stat -c %s "$IMG/photo.png")
head -c $((PNG_BYTES / 2)) "$IMG/photo.png" > "$DATA/bad/truncated.png"
: > "$DATA/bad/empty.jpg"
printf 'shopping list: milk, eggs\n' > "$DATA/bad/notes.jpg"

echo "images in $DATA:"
(cd "$DATA" && find . -type f | sort | sed 's/^/  /')

# A tiny H-GKD run (random teacher, 1-block students) on that folder at 32 px: 3 epochs of 2 steps of 4 images.
exec "$ROOT/bin/hgkd" distill --config classpath:configs/distill-tiny.json --output "$WORK/run" --previews 0 \
  --set job.data.source=IMAGE_FOLDER --set job.data.path="$DATA" --set job.data.limit=0 \
  --set job.data.batchSize=4 --set trainer.epochs=3 --set trainer.warmupEpochs=0 --set job.loss.queueSize=8
