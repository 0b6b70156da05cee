"""One case's extraction (:func:`extract_features`), its work spread over threads.

The steps are :mod:`radiopipe.features.extract`'s: :func:`prepare_case`, then shape, the image
types (:func:`filter_images`) and each filtered image's families. Here they are scheduled:

* **Filters.** With more than one filter task (one per config image type, one per LoG sigma, one
  per IBSI-2 filter), the filters run on ``FILTER_THREADS`` background threads, the LoG sigmas
  last (the costliest; their kernels release the GIL), while the families of the images already
  filtered are computed: the filters and the families overlap instead of following one another.
  Each filter thread runs its Numba kernels on one thread: a parallel kernel's OpenMP workers
  spin after each call and slowed the families more than they sped up the filter.
* **Families.** A 3D ROI of at least ``FAMILY_THREAD_VOXELS`` voxels has its shape and its
  families computed on ``FAMILY_THREADS`` threads of their own, in units: shape, and per
  filtered image the groups of families that share work (:data:`SHARED_WORK`: GLCM and GLRLM
  their cropped directional input, GLDM, NGTDM and NGLDM their neighbour statistics, GLSZM and
  GLDZM their zones); the other families each alone. Their kernels release the GIL, so one
  large image's families run side by side. A 2D image's units are whole images, and only with
  filtered images. A smaller ROI's run on the caller's thread, where the hand-offs cost more
  than they save.

The columns come out in the same order whatever runs where: shape, then each filter task's
images in :func:`filter_images`' order, each image's families in ``settings.families`` order.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import numba
import numpy as np

from radiopipe.config import FeatureConfig
from radiopipe.features.blas import single_threaded_blas
from radiopipe.features.extract import (
    PreparedCase,
    families_of_input,
    family_input,
    filter_images,
    prepare_case,
    shape_features,
)
from radiopipe.features.registry import FAMILIES, reported
from radiopipe.io import Volume

# Background threads running a case's filters, and its shape and families; 3 filter threads
# ran slower than 2 on two cores.
FILTER_THREADS = 2
FAMILY_THREADS = 2
# ROI voxels from which shape and the families run on their own threads: on two cores a
# 140k-voxel ROI with 12 filtered images took 1.4x less wall time for 2% more processor time,
# its original image alone 1.5x less for 9% more; a 4k-voxel ROI took the same wall time for 10%
# more, a 143-voxel one 20% more (the hand-offs cost more than the families of an image).
FAMILY_THREAD_VOXELS = 30_000
# Families that share work through their image's memo (FamilyInput.memo): run on one thread.
SHARED_WORK = (("glcm", "glrlm"), ("gldm", "ngtdm", "ngldm"), ("glszm", "gldzm"))


def extract_features(image: Volume, mask: Volume, settings: FeatureConfig) -> dict[str, float]:
    """Every configured feature of one ROI.

    Parameters
    ----------
    image : Volume
        Scalar image, 2D or 3D.
    mask : Volume
        ROI mask on the image's grid (non-zero inside).
    settings : FeatureConfig
        Families, image types, discretisation, aggregation, resampling and re-segmentation.

    Returns
    -------
    dict of str to float
        ``{image_type}__{family}__{feature}`` -> value.

    Notes
    -----
    Every family reads the filtered images only inside the ROI's bounding box (local intensity
    a sphere radius around it), so the filters compute them only over that region
    (``compute_image_types(..., region=...)``), the crop of the whole filtered image.
    """
    with single_threaded_blas():
        prepared = prepare_case(image, mask, settings)
        features: dict[str, float] = {}
        for part in _features_in_order(prepared, settings):
            features.update(part)
    return reported(features, settings.definitions)


def family_groups(settings: FeatureConfig) -> list[list[str]]:
    """The non-morphology families of ``settings``, grouped by the work they share
    (:data:`SHARED_WORK`), each group in ``settings.families`` order, groups by their first."""
    groups: list[list[str]] = []
    for name in settings.families:
        if FAMILIES[name].kind == "morphology":
            continue
        shared = next((set(names) for names in SHARED_WORK if name in names), {name})
        group = next((g for g in groups if shared.intersection(g)), None)
        if group is None:
            groups.append([name])
        else:
            group.append(name)
    return groups


def _features_in_order(prepared: PreparedCase, settings: FeatureConfig) -> list[dict]:
    """Shape's features, then every filtered image's, in column order (see the module)."""
    tasks = _filter_tasks(settings)
    n_voxels = int(np.count_nonzero(prepared.intensity_mask[prepared.roi_box]))
    filters = families = None
    if len(tasks) > 1:
        filters = ThreadPoolExecutor(
            max_workers=FILTER_THREADS, thread_name_prefix="radiopipe-filters",
            initializer=numba.set_num_threads, initargs=(1,),
        )
    # A 2D image's families spend more of their time in NumPy calls holding the GIL: their
    # units are whole images, and a single image stays on this thread (threads took a 70k-pixel
    # disk's original image 15% less wall time for 30% more processor time).
    if n_voxels >= FAMILY_THREAD_VOXELS and (len(tasks) > 1 or not prepared.planar):
        families = ThreadPoolExecutor(
            max_workers=FAMILY_THREADS, thread_name_prefix="radiopipe-families"
        )
    try:
        shape = _submit(families, shape_features, prepared, settings)
        if filters is None:
            filtered = [(0, _submit(None, filter_images, prepared, settings))]
        else:
            # the LoG sigmas last, the other tasks in order
            run_order = sorted(range(len(tasks)),
                               key=lambda task: tasks[task].image_types == ["log"])
            filtered = [(task, filters.submit(filter_images, prepared, tasks[task]))
                        for task in run_order]
        groups = [None] if families is None or prepared.planar else family_groups(settings)
        by_task: dict[int, list[list[Future]]] = {}
        for task, future in filtered:
            for name, image in future.result().items():
                inputs = family_input(prepared, image, settings, image_name=name)
                by_task.setdefault(task, []).append([
                    _submit(families, families_of_input, inputs, settings, image_name=name,
                            families=group)
                    for group in groups
                ])
        parts = [shape.result()]
        for task in sorted(by_task):
            parts.extend(_in_family_order([f.result() for f in units], settings)
                         for units in by_task[task])
        return parts
    finally:
        for pool in (filters, families):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)


def _submit(pool: ThreadPoolExecutor | None, function, *args, **kwargs) -> Future:
    """``function(*args, **kwargs)`` on ``pool``, or now on this thread (no pool)."""
    if pool is not None:
        return pool.submit(function, *args, **kwargs)
    future: Future = Future()
    future.set_result(function(*args, **kwargs))
    return future


def _in_family_order(units: list[dict[str, dict[str, float]]],
                     settings: FeatureConfig) -> dict[str, float]:
    """One image's features from its units' (family -> features), in ``settings.families``
    order."""
    by_family = {family: values for unit in units for family, values in unit.items()}
    return {column: value for family in settings.families if family in by_family
            for column, value in by_family[family].items()}


def _filter_tasks(settings: FeatureConfig) -> list[FeatureConfig]:
    """The settings of each filter task: one per config image type, one per LoG sigma, one per
    IBSI-2 filter."""
    tasks = []
    alone = {"ibsi_filters": []}
    for image_type in settings.image_types:
        if image_type == "log":
            tasks.extend(
                settings.model_copy(
                    update={"image_types": ["log"], "log_sigmas": [sigma], **alone}
                )
                for sigma in settings.log_sigmas
            )
        else:
            tasks.append(settings.model_copy(update={"image_types": [image_type], **alone}))
    tasks.extend(
        settings.model_copy(update={"image_types": [], "ibsi_filters": [entry]})
        for entry in settings.ibsi_filters
    )
    return tasks
