"""Tiny dataset folders in their authors' layouts, for tests that need a root.

Images are small flat colours; only the folder structure and label formats
matter here (the readers' own tests check the parsing in detail).
"""
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image


def _image(path: Path, value: int, size=(32, 32)):
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.full((*size, 3), value % 256, np.uint8)
    pixels[::2, :, 1] = (3 * value) % 256  # some texture
    Image.fromarray(pixels).save(path)


def write_tid(root: Path, refs=(1, 2, 3, 25)) -> Path:
    """TID2008/TID2013: mos_with_names.txt, mos_std.txt, reference_images/, distorted_images/."""
    lines, stds = [], []
    for ref in refs:
        _image(root / "reference_images" / (f"I{ref:02d}.BMP" if ref != 25 else f"i{ref:02d}.bmp"), 9 * ref)
        for kind in (1, 2):
            for level in (1, 2, 3):
                name = f"i{ref:02d}_{kind:02d}_{level}.bmp"
                _image(root / "distorted_images" / name, 9 * ref + kind + level)
                lines.append(f"{6.0 - level + 0.1 * kind:.4f} {name}")
                stds.append("0.5")
    (root / "mos_with_names.txt").write_text("\n".join(lines) + "\n")
    (root / "mos_std.txt").write_text("\n".join(stds) + "\n")
    return root


def write_pipal(root: Path, refs=(1, 2, 3, 4)) -> Path:
    """PIPAL: Train_Ref/, Train_Dis/, Train_Label/<REF>.txt with "<name>,<elo>" lines."""
    for ref in refs:
        stem = f"A{ref:04d}"
        _image(root / "Train_Ref" / f"{stem}.bmp", 20 * ref)
        lines = []
        for kind, index in ((0, 0), (1, 3), (2, 7)):
            name = f"{stem}_{kind:02d}_{index:02d}.bmp"
            _image(root / "Train_Dis" / name, 20 * ref + kind)
            lines.append(f"{name},{1400 + 25 * kind + ref:.4f}")
        (root / "Train_Label").mkdir(parents=True, exist_ok=True)
        (root / "Train_Label" / f"{stem}.txt").write_text("\n".join(lines) + "\n")
    return root


def write_pieapp(root: Path) -> Path:
    """PieAPP: reference lists, images per split, pairwise labels (train/val), per-image scores (test)."""
    for split, refs in (("train", (1, 2)), ("val", (3,)), ("test", (4,))):
        root.mkdir(parents=True, exist_ok=True)
        (root / f"{split}_reference_list.txt").write_text("".join(f"ref_{r:04d}.png\n" for r in refs))
        for r in refs:
            stem = f"ref_{r:04d}"
            _image(root / "reference_images" / split / f"{stem}.png", 40 * r, size=(24, 24))
            names = [f"distort_{r:04d}_gaussian_blur_inter_{k}.png" for k in (1, 2, 3)]
            for k, name in enumerate(names):
                _image(root / "distorted_images" / split / stem / name, 40 * r + k, size=(24, 24))
            labels = root / "labels" / split
            labels.mkdir(parents=True, exist_ok=True)
            if split == "test":
                pd.DataFrame({"ref. image": f"{stem}.png", " distorted image": names,
                              " score for distorted image": [0.5, 1.5, 2.5]}) \
                    .to_csv(labels / f"{stem}_per_image_score.csv", index=False)
            else:
                pd.DataFrame({"ref. image": f"{stem}.png",
                              " distorted image A": [names[0], names[1], names[2]],
                              " distorted image B": [names[1], names[2], names[0]],
                              " raw preference for A": [0.8, 0.4, 0.2],
                              " processed preference for A": [0.8, 0.4, 0.2]}) \
                    .to_csv(labels / f"{stem}_pairwise_labels.csv", index=False)
    return root


WRITERS = {"tid2008": write_tid, "tid2013": write_tid, "pipal": write_pipal, "pieapp": write_pieapp}
