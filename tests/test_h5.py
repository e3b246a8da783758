"""HDF5 store: the seed's layout written from the synthetic set, read back through the pipeline."""
import json
import os

import h5py
import numpy as np
import pytest

from iqa_keras.data import make_h5_dataset, read_dataset, read_h5_info, read_image, write_h5

SIZE = 32  # stored embedded images
STORED = 24  # HDF5 size: a centre crop of the 32 x 32 images


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("h5")
    df = read_dataset("embedded", cache_dir=folder / "cache", size=SIZE, seed=0)
    df = df[df["content"].isin(["embedded:astronaut", "embedded:coffee"])].reset_index(drop=True)
    path = write_h5(df, folder / "train.h5", input_size=STORED, block_rows=16, progress=False)
    return df, path


def test_layout_reference_first_and_scores(store):
    df, path = store
    with h5py.File(path, "r") as handle:
        assert handle["x"].shape == (len(df), 2, STORED, STORED, 3) and handle["x"].dtype == np.uint8
        assert handle["y"].shape == (len(df), 1) and handle["y"].dtype == np.float32
        assert handle["x"].chunks == (1, 2, STORED, STORED, 3)
        for i in (0, len(df) - 1):
            offset = (SIZE - STORED) // 2
            np.testing.assert_array_equal(handle["x"][i, 0], read_image(df["ref"][i])[offset:offset + STORED, offset:offset + STORED])
            np.testing.assert_array_equal(handle["x"][i, 1], read_image(df["dist"][i])[offset:offset + STORED, offset:offset + STORED])
        mos = df["mos"].to_numpy()
        np.testing.assert_allclose(handle["y"][:, 0], (mos - mos.mean()) / mos.std(), rtol=1e-5, atol=1e-6)
        assert list(handle["name"].asstr()[:2]) == [os.path.basename(p) for p in df["dist"][:2]]
        assert set(handle["content"].asstr()[:]) == {"embedded:astronaut", "embedded:coffee"}
        assert json.loads(handle.attrs["score_norm"])["embedded"] == pytest.approx([mos.mean(), mos.std()])
    info = read_h5_info(path)
    assert info["count"] == len(df) and info["kind"] == "fr" and info["input_size"] == STORED
    assert not [p for p in os.listdir(path.parent) if ".tmp-" in p]


def _dihedral(image):
    """The 8 rot90/flip transforms of an image, in numpy."""
    out = []
    for k in range(4):
        rotated = np.rot90(image, k)
        out += [rotated, rotated[:, ::-1]]
    return out


def test_pipeline_applies_the_same_geometric_transform_to_both_images(store):
    df, path = store
    ds = make_h5_dataset(path, 8, augment="geometric", seed=3)
    with h5py.File(path, "r") as handle:
        stored_x, stored_y = handle["x"][:], handle["y"][:]
    index, used = 0, set()
    for (ref, dist), y in ds:
        for r, d, target in zip(ref.numpy(), dist.numpy(), y.numpy()):
            assert r.dtype == np.float32 and target == pytest.approx(stored_y[index])
            ref_variants = _dihedral(stored_x[index, 0].astype(np.float32))
            dist_variants = _dihedral(stored_x[index, 1].astype(np.float32))
            matches = [t for t in range(8) if np.array_equal(r, ref_variants[t]) and np.array_equal(d, dist_variants[t])]
            assert matches, f"sample {index}: reference and distorted were not transformed alike"
            used.add(matches[0])
            index += 1
    assert index == len(df) and len(used) >= 4  # several different transforms were drawn


def test_shuffled_crop_and_renormalised_reads(store):
    df, path = store
    shuffled = make_h5_dataset(path, 16, shuffle=True, seed=1, input_size=16, crop="random", score_norm=(3.0, 2.0))
    ys = np.concatenate([y.numpy()[:, 0] for (_, _), y in shuffled])
    np.testing.assert_allclose(np.sort(ys), np.sort((df["mos"].to_numpy() - 3.0) / 2.0), rtol=1e-5)
    assert not np.allclose(ys, (df["mos"].to_numpy() - 3.0) / 2.0)
    (ref, dist), _ = next(iter(shuffled))
    assert ref.shape == (16, 16, 16, 3)


def test_failed_write_leaves_nothing(tmp_path, store):
    df, _ = store
    broken = df.head(3).copy()
    broken.loc[2, "dist"] = str(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="missing.png"):
        write_h5(broken, tmp_path / "out.h5", input_size=STORED, progress=False)
    assert os.listdir(tmp_path) == []
