"""Tissue classification on patches of the real MNI152 2009 T1 MRI (shipped inside nilearn).

Each case is a small crop of the T1 template with a fixed spherical ROI at its centre; its label is
the tissue (grey matter, white matter or CSF) with the highest probability at the centre voxel,
from nilearn's tissue probability maps (CSF is the brain mask minus grey and white matter). The ROI
never depends on the maps that give the label, so shape features carry no label information.

There are no patients: every case comes from the one template brain. ``patient_id`` names a
16 mm cubic block of it (``block-XX-YY-ZZ``): every crop lies wholly inside its block, so patches of
different blocks share no voxel and grouped cross-validation cannot leak neighbouring tissue between
folds. The dataset's grouping unit is therefore "blocks of one template brain"
(``radiopipe.settings.inputs.BUILTIN_GROUPING_UNITS``), which the report shows wherever it counts
the groups. The manifest's ``modality`` column (``MR``) gives the case pages their intensity unit
(arbitrary units).

Variants
--------
boundary
    Radius-3 spheres centred where the winning tissue's probability is 0.5-0.7 (near tissue
    boundaries): partial-volume patches that make the task honest (macro ROC-AUC about 0.97).
interior
    Radius-3 spheres centred where the winning probability is at least 0.9: intensity alone
    separates them (macro ROC-AUC about 0.999).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from radiopipe.datasets.cache import build_once, cache_root

DATASET_VERSION = 2  # 2: the manifest declares the modality (MR)
BLOCK_SIZE = 16  # voxels (1 mm) per side of a "patient" block
CROP_MARGIN = 2  # voxels of image kept around the ROI sphere
TISSUES = ("grey_matter", "white_matter", "csf")
MAX_PER_BLOCK_AND_CLASS = 6


@dataclass(frozen=True)
class _Variant:
    radius: int
    low: float
    high: float


VARIANTS = {
    "boundary": _Variant(radius=3, low=0.5, high=0.7),
    "interior": _Variant(radius=3, low=0.9, high=1.01),
}


def mni152_tissue(
    variant: str = "boundary",
    cases_per_class: int = 200,
    seed: int = 0,
    cache_dir: str | Path | None = None,
) -> Path:
    """Write the dataset on first use and return its manifest.

    Parameters
    ----------
    variant : {'boundary', 'interior'}
        Which patches to sample (see the module docstring).
    cases_per_class : int
        Patches per tissue class.
    seed : int
        Seed of the patch sampling.
    cache_dir : str or Path, optional
        Parent folder of the dataset; defaults to :func:`radiopipe.datasets.cache_root`.

    Returns
    -------
    Path
        ``manifest.csv`` of the dataset (images and masks as NRRD beside it).

    Examples
    --------
    >>> manifest = mni152_tissue(cases_per_class=10)  # doctest: +SKIP
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
    root = Path(cache_dir) if cache_dir is not None else cache_root()
    name = f"mni152_tissue-v{DATASET_VERSION}-{variant}-{cases_per_class}-seed{seed}"
    folder = build_once(
        root / name, lambda out: _build(out, VARIANTS[variant], cases_per_class, seed)
    )
    return folder / "manifest.csv"


def _load_maps():
    """T1 (grey values 0-255 as shipped), tissue probabilities (3, x, y, z), brain mask, affine."""
    from nilearn import datasets

    template = datasets.load_mni152_template(resolution=1)
    t1 = np.rint(np.asarray(template.dataobj, dtype=np.float64) * 255).astype(np.int16)
    grey = np.asarray(datasets.load_mni152_gm_template(resolution=1).dataobj, dtype=np.float64)
    white = np.asarray(datasets.load_mni152_wm_template(resolution=1).dataobj, dtype=np.float64)
    brain = np.asarray(datasets.load_mni152_brain_mask(resolution=1).dataobj) > 0
    csf = np.clip(brain - grey - white, 0.0, 1.0)
    return t1, np.stack([grey, white, csf]), brain, np.asarray(template.affine)


def _candidates(prob, brain, variant: _Variant, half: int):
    """Voxel indices (n, 3) whose crop fits in its block, with label and block id."""
    label = prob.argmax(axis=0)
    winning = prob.max(axis=0)
    ok = brain & (winning >= variant.low) & (winning < variant.high)
    grid = np.indices(brain.shape)
    offset = grid % BLOCK_SIZE
    ok &= np.all((offset >= half) & (offset < BLOCK_SIZE - half), axis=0)
    centres = np.argwhere(ok)
    blocks = centres // BLOCK_SIZE
    return centres, label[tuple(centres.T)], blocks


def _sample(
    centres, labels, blocks, cases_per_class: int, rng
) -> list[tuple[int, np.ndarray, tuple]]:
    chosen = []
    for k, _ in enumerate(TISSUES):
        index = np.flatnonzero(labels == k)
        rng.shuffle(index)
        counts: dict[tuple, int] = {}
        taken = 0
        for i in index:
            block = tuple(int(b) for b in blocks[i])
            if counts.get(block, 0) >= MAX_PER_BLOCK_AND_CLASS:
                continue
            counts[block] = counts.get(block, 0) + 1
            chosen.append((k, centres[i], block))
            taken += 1
            if taken == cases_per_class:
                break
        if taken < cases_per_class:
            raise ValueError(
                f"only {taken} {TISSUES[k]} patches available; ask for fewer cases_per_class"
            )
    return chosen


def _build(out: Path, variant: _Variant, cases_per_class: int, seed: int) -> None:
    t1, prob, brain, affine = _load_maps()
    half = variant.radius + CROP_MARGIN
    centres, labels, blocks = _candidates(prob, brain, variant, half)
    chosen = _sample(centres, labels, blocks, cases_per_class, np.random.default_rng(seed))
    (out / "images").mkdir()
    (out / "masks").mkdir()
    mask = _sphere(variant.radius, half)
    ras_to_lps = np.diag([-1.0, -1.0, 1.0, 1.0])
    lps = ras_to_lps @ affine
    spacing = np.linalg.norm(lps[:3, :3], axis=0)
    direction = (lps[:3, :3] / spacing).ravel()
    rows = []
    for n, (k, centre, block) in enumerate(chosen):
        case_id = f"mni-{n:04d}"
        corner = centre - half
        crop = t1[tuple(slice(c, c + 2 * half + 1) for c in corner)]
        origin = (lps @ np.append(corner, 1.0))[:3]
        for folder, array in (("images", crop), ("masks", mask)):
            # nibabel indexes (i, j, k) = (x, y, z); SimpleITK arrays are (z, y, x).
            image = sitk.GetImageFromArray(np.ascontiguousarray(array.transpose(2, 1, 0)))
            image.SetSpacing(tuple(spacing))
            image.SetOrigin(tuple(origin))
            image.SetDirection(tuple(direction))
            sitk.WriteImage(image, str(out / folder / f"{case_id}.nrrd"), useCompression=True)
        rows.append(
            {
                "case_id": case_id,
                "image": f"images/{case_id}.nrrd",
                "mask": f"masks/{case_id}.nrrd",
                "label": TISSUES[k],
                "patient_id": "block-{:02d}-{:02d}-{:02d}".format(*block),
                "modality": "MR",
            }
        )
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _sphere(radius: int, half: int) -> np.ndarray:
    axis = np.arange(-half, half + 1)
    zz, yy, xx = np.meshgrid(axis, axis, axis, indexing="ij")
    return (zz**2 + yy**2 + xx**2 <= radius**2).astype(np.uint8)
