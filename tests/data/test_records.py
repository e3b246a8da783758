"""Record tables: column filling, validation errors naming file and row, score statistics."""
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from helpers import write_random_image
from iqa_keras.data import COLUMNS, drop_missing_files, make_records, validate_records
from iqa_keras.scales import score_norms


def _image(path, rng, size=(6, 5)):
    return write_random_image(path, rng, size)


def _table(tmp_path, rng, n=3):
    ref = _image(tmp_path / "ref.png", rng)
    rows = [{"dist": _image(tmp_path / f"d{i}.png", rng), "ref": ref, "mos": float(i), "content": "c"} for i in range(n)]
    return make_records(rows, db="toy")


def test_make_records_fills_every_column(tmp_path, rng):
    df = _table(tmp_path, rng)
    assert list(df.columns[: len(COLUMNS)]) == list(COLUMNS)
    assert df["db"].eq("toy").all() and df["mos_std"].isna().all() and df["level"].isna().all()
    assert validate_records(df) is df


def test_nan_score_missing_file_corrupt_image_and_duplicates_are_named(tmp_path, rng):
    df = _table(tmp_path, rng, n=5)
    df.loc[1, "mos"] = np.nan
    df.loc[2, "dist"] = str(tmp_path / "gone.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    df.loc[3, "dist"] = str(tmp_path / "broken.png")
    df = pd.concat([df, df.iloc[[0]]], ignore_index=True)  # the 6th record duplicates the 1st
    with pytest.raises(ValueError) as error:
        validate_records(df)
    message = str(error.value)  # records are counted from 1, as a reader counts them
    assert "record 2 " in message and "d1.png" in message and "nan" in message
    assert "record 3:" in message and "gone.png" in message and "not found" in message
    assert "record 4:" in message and "broken.png" in message
    assert "record 6 " in message and "duplicate of record 1" in message
    # without file checks only the table problems remain
    with pytest.raises(ValueError) as error:
        validate_records(df, check_files=False)
    assert "gone.png" not in str(error.value) and "record 2 " in str(error.value)


def test_truncated_image_found_by_full_decode(tmp_path, rng):
    df = _table(tmp_path, rng, n=2)
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(tmp_path / "big.jpg", quality=90)
    data = (tmp_path / "big.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    df.loc[1, "dist"] = str(tmp_path / "cut.jpg")
    with pytest.raises(ValueError, match=r"record 2: dist image .*cut\.jpg: cannot decode"):
        validate_records(df, check_files="decode")


def test_drop_missing_files_and_score_norm(tmp_path, rng):
    df = _table(tmp_path, rng, n=4)
    df.loc[2, "dist"] = str(tmp_path / "absent.png")
    df.loc[3, "db"] = "other"
    kept, missing = drop_missing_files(df)
    assert len(kept) == 3 and missing == [str(tmp_path / "absent.png")]
    norms = score_norms(df)
    assert norms["toy"] == pytest.approx((1.0, np.std([0.0, 1.0, 2.0])))
    assert norms["other"] == (3.0, 1.0)  # a constant score gets std 1
