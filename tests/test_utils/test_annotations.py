"""The one box / label reader behind ground truth, results and training annotations."""
import numpy as np
import pytest

from lib.utils.annotations import AnnotationError, parse_boxes, parse_values, read_boxes


def test_every_delimiter_and_missing_values():
    text = "1,2,3,4\n5\t6\t7\t8\n9 10 11 12\n13, 14, 15, 16\n1,,3,4\nnan,nan,nan,nan\n\n"
    boxes = parse_boxes(text, "gt.txt")
    assert boxes.shape == (6, 4)
    np.testing.assert_array_equal(boxes[:4], [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]])
    assert np.isnan(boxes[4, 1]) and boxes[4, 3] == 4
    assert np.isnan(boxes[5]).all()


def test_special_rows_are_empty_boxes_only_when_asked():
    text = "1\n10,20,30,40\n0\n"
    boxes = parse_boxes(text, "traj.txt", special_rows=True)
    assert np.isnan(boxes[0]).all() and np.isnan(boxes[2]).all() and boxes[1, 2] == 30
    with pytest.raises(AnnotationError, match=r"traj.txt:1: 1 values, expected 4"):
        parse_boxes(text, "traj.txt")


def test_errors_name_file_and_line(tmp_path):
    with pytest.raises(AnnotationError, match=r"r.txt:2: cannot read 'a,b,c,d'"):
        parse_boxes("1,2,3,4\na,b,c,d\n", "r.txt")
    with pytest.raises(AnnotationError, match=r"r.txt:2: 8 values, expected 4"):
        parse_boxes("1,2,3,4\n1,2,3,4,5,6,7,8\n", "r.txt", widths=(4, 8))
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(AnnotationError, match="not a text file"):
        read_boxes(binary)


def test_corner_rows_and_flags():
    assert parse_boxes("1 2 3 4 5 6 7 8\n", "c.txt", widths=(4, 8)).shape == (1, 8)
    np.testing.assert_array_equal(parse_values("1,0,1\n0\n", "f.txt"), [1, 0, 1, 0])
