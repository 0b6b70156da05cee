#!/usr/bin/env bash
# The GPU checks of issue 4, on the device machine, from the repository root:
#     bash benchmarks/gpu_check.sh [setup] [pytest] [benchmark]      (default: all three)
# with .gpucheck/ carried (see benchmarks/gpu_check_prepare.sh). 'setup' installs the carried
# wheels, builds pyradiomics' C extensions and points ../shared/data at the carried data;
# 'pytest' runs `pytest -m gpu`, 'benchmark' benchmarks/gpu.py. Logs land in $OUT
# (setup.log, pytest.log, benchmark.log).
set -uo pipefail
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
ROOT=$PWD
SITE=/tmp/site
export PYTHONUNBUFFERED=1
STEPS=${*:-setup pytest benchmark}
if [[ " $STEPS " == *" setup "* ]]; then {
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$SITE" .gpucheck/wheels/*.whl || exit 1
    rm -rf /tmp/pyradiomics && cp -r .gpucheck/pyradiomics /tmp/pyradiomics
    (cd /tmp/pyradiomics && python3 - <<'PY'
import numpy
from setuptools import Extension, setup

include = [numpy.get_include(), "radiomics/src"]
setup(
    name="radiomics-extensions",
    script_args=["build_ext", "--inplace", "--quiet"],
    ext_modules=[
        Extension("radiomics._cmatrices", ["radiomics/src/_cmatrices.c",
                                          "radiomics/src/cmatrices.c"], include_dirs=include),
        Extension("radiomics._cshape", ["radiomics/src/_cshape.c", "radiomics/src/cshape.c"],
                  include_dirs=include),
    ],
)
PY
    ) || echo "pyradiomics extensions failed to build: its benchmark column will fail"
    mkdir -p "$ROOT/../shared"
    ln -sfn "$ROOT/.gpucheck/data" "$ROOT/../shared/data"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    python3 -c "import cupy, numpy, scipy; print('cupy', cupy.__version__, 'numpy', numpy.__version__, 'scipy', scipy.__version__)"
} 2>&1 | tee "$OUT/setup.log"; fi
export PYTHONPATH="$ROOT:$SITE:/tmp/pyradiomics"
if [[ " $STEPS " == *" pytest "* ]]; then
    python3 -m pytest -m gpu -p no:cacheprovider -q -rs --continue-on-collection-errors tests \
        2>&1 | tee "$OUT/pytest.log"
fi
if [[ " $STEPS " == *" benchmark "* ]]; then
    python3 benchmarks/gpu.py 2>&1 | tee "$OUT/benchmark.log"
fi
