#!/usr/bin/env bash
# Fill .gpucheck/ (ignored by git, carried to the GPU machine) with what benchmarks/gpu_check.sh
# needs there and that machine lacks: Python 3.12 wheels of radiopipe's missing dependencies,
# pyradiomics' sources (its C extensions are built there) and the reference data.
#
# Run here, from the repository root, with the project's virtualenv active:
#     bash benchmarks/gpu_check_prepare.sh [DATA_DIR]
# then call the device tool with carry [".gpucheck"] and the command
#     bash benchmarks/gpu_check.sh
#
# The carried tree must stay under 64 MiB: SimpleITK's wheel alone is 53 MB, so lung1 travels
# cropped to 48 x 120 x 130 voxels around its ROI (all slices; features read only the ROI's box,
# and benchmarks/gpu.py prints each case's shape), and the batch patches come from brain1.
set -euo pipefail
DATA=${1:-../shared/data}
OUT=.gpucheck
rm -rf "$OUT"
mkdir -p "$OUT/wheels" "$OUT/pyradiomics" "$OUT/data/ibsi1" "$OUT/data/pyradiomics_cases"
grep -qx '/.gpucheck/' .git/info/exclude || echo '/.gpucheck/' >> .git/info/exclude

python -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$OUT/wheels" \
    SimpleITK==2.5.7 PyWavelets==1.9.0 pydantic==2.14.4 pydantic_core==2.50.5 \
    annotated-types==0.8.0 typing-inspection==0.4.5 pykwalify==1.8.0 ruamel.yaml==0.19.1 \
    threadpoolctl==3.8.0

# pyradiomics-bhklab ships no Python 3.12 wheel: take the package sources from its sdist (its
# extractor also needs pykwalify and ruamel.yaml, above; docopt, a CLI dependency, is not used).
python -m pip download --quiet --no-deps -d "$OUT/sdist" pyradiomics-bhklab==3.1.4
tar -xzf "$OUT"/sdist/pyradiomics_bhklab-3.1.4.tar.gz -C "$OUT/sdist"
cp -r "$OUT"/sdist/pyradiomics_bhklab-3.1.4/radiomics "$OUT/pyradiomics/"
rm -rf "$OUT/sdist"

cp -r "$DATA/ibsi1/digital_phantom" "$DATA/ibsi1/reference_values" "$OUT/data/ibsi1/"
for name in brain1 breast1; do
    cp "$DATA/pyradiomics_cases/${name}_image.nrrd" "$DATA/pyradiomics_cases/${name}_label.nrrd" \
        "$OUT/data/pyradiomics_cases/"
done
python - "$DATA/pyradiomics_cases" "$OUT/data/pyradiomics_cases" <<'PY'
import sys
import SimpleITK as sitk

source, target = sys.argv[1:]
for kind in ("image", "label"):
    image = sitk.ReadImage(f"{source}/lung1_{kind}.nrrd")
    # x 150..279, y 300..419, all 48 slices: the ROI (x 206..229, y 347..372) and 45+ voxels.
    cropped = sitk.RegionOfInterest(image, [130, 120, image.GetSize()[2]], [150, 300, 0])
    sitk.WriteImage(cropped, f"{target}/lung1_{kind}.nrrd", useCompression=True)
PY
du -sh "$OUT"
