"""CUDA kernels that build the texture matrices of a whole batch of ROIs in one launch each.

Every kernel walks the ROI voxels of a `radiopipe.gpu.packing.PackedBatch`: ``levels`` is the
flattened packed lattice (0 outside the ROIs), ``voxels`` the flat index of each ROI voxel and
``steps`` the flat step of each neighbour offset; the padding of the lattice keeps every read
``voxels[k] + steps[d]`` inside it and away from other ROIs. Threads cover (voxel, direction)
pairs with a grid-stride loop, voxels fastest so that neighbouring threads read neighbouring
memory. Counts are accumulated with ``atomicAdd`` on uint32 (exact; order-independent).

The kernels are compiled by NVRTC once per device and process and memoised (`kernel`); their
results are checked against the native CPU engine by the ``gpu`` tests.
"""

from __future__ import annotations

from functools import cache

import numpy as np

THREADS_PER_BLOCK = 256
_MAX_BLOCKS = 65536

SOURCE = r"""
typedef long long i64;

#define GRID_STRIDE(t, n) \
    for (i64 t = blockIdx.x * (i64)blockDim.x + threadIdx.x; t < (n); \
         t += (i64)gridDim.x * blockDim.x)

// GLCM: counts[m, d, a-1, b-1] += 1 for every ROI voxel of level a whose neighbour at
// steps[d] lies in the ROI with level b; m = voxel_matrix[k].
extern "C" __global__ void pair_counts(
    const int* levels, const i64* voxels, const i64* voxel_matrix, const i64* steps,
    const i64 n_voxels, const int n_directions, const int n_grey, unsigned int* counts)
{
    GRID_STRIDE(t, n_voxels * n_directions) {
        const i64 k = t % n_voxels;
        const int d = (int)(t / n_voxels);
        const i64 v = voxels[k];
        const int b = levels[v + steps[d]];
        if (b == 0) continue;
        const int a = levels[v];
        const i64 cell = ((voxel_matrix[k] * n_directions + d) * n_grey + (a - 1)) * n_grey + b - 1;
        atomicAdd(counts + cell, 1u);
    }
}

// GLRLM: a run starts at an ROI voxel whose predecessor along the direction has another level
// (or lies outside the ROI); its first voxel walks it to the end and counts
// counts[m, d, a-1, length-1] += 1.
extern "C" __global__ void run_lengths(
    const int* levels, const i64* voxels, const i64* voxel_matrix, const i64* steps,
    const i64 n_voxels, const int n_directions, const int n_grey, const int max_length,
    unsigned int* counts)
{
    GRID_STRIDE(t, n_voxels * n_directions) {
        const i64 k = t % n_voxels;
        const int d = (int)(t / n_voxels);
        const i64 v = voxels[k];
        const i64 step = steps[d];
        const int a = levels[v];
        if (levels[v - step] == a) continue;
        int length = 1;
        while (levels[v + length * step] == a) ++length;
        const i64 cell = ((voxel_matrix[k] * n_directions + d) * n_grey + (a - 1)) * max_length
                         + length - 1;
        atomicAdd(counts + cell, 1u);
    }
}

// Zones (GLSZM, GLDZM): union-find over the lattice, as in ECL-CC (Jaiganesh and Burtscher,
// 2018). parent[v] holds a voxel of the same zone with a smaller flat index; roots point to
// themselves.
extern "C" __global__ void zone_init(const i64* voxels, const i64 n_voxels, int* parent)
{
    GRID_STRIDE(k, n_voxels) {
        parent[voxels[k]] = (int)voxels[k];
    }
}

// The root of x's tree, halving the path on the way: each visited voxel is pointed at its
// grandparent. Concurrent writes are benign: a parent is only ever replaced by one of its own
// ancestors, which has a smaller index and lies in the same zone.
__device__ int find_root(int* parent, int x)
{
    volatile int* link = parent;
    int current = link[x];
    if (current == x) return x;
    int previous = x;
    int next;
    while (current > (next = link[current])) {
        link[previous] = next;
        previous = current;
        current = next;
    }
    return current;
}

// steps: the forward half of the neighbourhood (13 in 3D, 4 in-plane); union is symmetric.
// The larger root is hooked under the smaller with a compare-and-swap that only succeeds while
// it is still a root; otherwise the hook retries from what it became.
extern "C" __global__ void zone_merge(
    const int* levels, const i64* voxels, const i64* steps, const i64 n_voxels,
    const int n_directions, int* parent)
{
    GRID_STRIDE(t, n_voxels * n_directions) {
        const i64 k = t % n_voxels;
        const int d = (int)(t / n_voxels);
        const i64 v = voxels[k];
        const i64 w = v + steps[d];
        if (levels[w] != levels[v]) continue;
        int a = find_root(parent, (int)v);
        int b = find_root(parent, (int)w);
        while (a != b) {
            if (a < b) { const int swap = a; a = b; b = swap; }
            const int seen = atomicCAS(parent + a, a, b);
            if (seen == a) break;
            a = seen;
        }
    }
}

extern "C" __global__ void zone_roots(
    const i64* voxels, const i64 n_voxels, int* parent, int* root)
{
    GRID_STRIDE(k, n_voxels) {
        root[k] = find_root(parent, (int)voxels[k]);
    }
}

// GLDZM: one relaxation sweep of the city-block distance to the ROI edge. distance is 0
// outside the ROI; steps are the 6 (3D) or 4 (in-plane) face neighbours. A sweep lowers a
// voxel to 1 + its smallest neighbour; *changed records that something moved.
extern "C" __global__ void edge_distance_sweep(
    const i64* voxels, const i64* steps, const i64 n_voxels, const int n_directions,
    int* distance, int* changed)
{
    GRID_STRIDE(k, n_voxels) {
        const i64 v = voxels[k];
        const int current = distance[v];
        int best = current;
        for (int d = 0; d < n_directions; ++d) {
            const int candidate = distance[v + steps[d]] + 1;
            if (candidate < best) best = candidate;
        }
        if (best < current) {
            distance[v] = best;
            *changed = 1;
        }
    }
}

// NGTDM, NGLDM, GLDM: per ROI voxel of level a, the sum and number of its neighbours inside
// the ROI, and 1 + the number of those whose level b has |b - a| <= alpha.
extern "C" __global__ void neighbourhood(
    const int* levels, const i64* voxels, const i64* steps, const i64 n_voxels,
    const int n_offsets, const double alpha, double* neighbour_sum, int* neighbour_count,
    int* dependence)
{
    GRID_STRIDE(k, n_voxels) {
        const i64 v = voxels[k];
        const int a = levels[v];
        i64 total = 0;
        int count = 0;
        int dependent = 1;
        for (int d = 0; d < n_offsets; ++d) {
            const int b = levels[v + steps[d]];
            if (b > 0) {
                total += b;
                ++count;
                if (fabs((double)(b - a)) <= alpha) ++dependent;
            }
        }
        neighbour_sum[k] = (double)total;
        neighbour_count[k] = count;
        dependence[k] = dependent;
    }
}
"""

KERNEL_NAMES = (
    "pair_counts",
    "run_lengths",
    "zone_init",
    "zone_merge",
    "zone_roots",
    "edge_distance_sweep",
    "neighbourhood",
)


@cache
def _module(device_id: int):
    """The compiled kernel module of one device (compiled at the first use, then memoised)."""
    import cupy

    with cupy.cuda.Device(device_id):
        module = cupy.RawModule(code=SOURCE, options=("--std=c++14",))
        module.compile()
    return module


def kernel(name: str):
    """The compiled kernel ``name`` for the current device."""
    import cupy

    if name not in KERNEL_NAMES:
        raise ValueError(f"Unknown kernel {name!r}; choose from {KERNEL_NAMES}.")
    return _module(cupy.cuda.Device().id).get_function(name)


def launch(name: str, n_threads: int, args: tuple) -> None:
    """Launch kernel ``name`` over ``n_threads`` grid-stride threads (no-op when 0)."""
    if n_threads <= 0:
        return
    blocks = int(min(_MAX_BLOCKS, -(-n_threads // THREADS_PER_BLOCK)))
    kernel(name)((blocks,), (THREADS_PER_BLOCK,), args)


def i64(value: int) -> np.int64:
    """A kernel's ``long long`` scalar argument."""
    return np.int64(value)


def i32(value: int) -> np.int32:
    """A kernel's ``int`` scalar argument."""
    return np.int32(value)
