import numpy as np
import pytest

from neuralnet.datasets.tabular import load_csv


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_empty_field_names_the_column_and_the_first_line(tmp_path):
    path = write(tmp_path, "data.csv", "a,flux,label\n1,2,0\n3,,1\n5,NA,1\n")
    with pytest.raises(
        ValueError,
        match=r"data.csv: column 'flux' has a missing value on line 3; "
        r"missing or non-numeric values on line\(s\) 3, 4\.",
    ):
        load_csv(path)


@pytest.mark.parametrize("token", ["NA", "nan", "N/A", "null", "?"])
def test_missing_value_markers_are_missing_values(tmp_path, token):
    path = write(tmp_path, "data.csv", f"a,flux,label\n1,2,0\n1,2,0\n1,{token},1\n")
    with pytest.raises(ValueError, match="column 'flux' has a missing value on line 4 \\('"):
        load_csv(path)


def test_non_numeric_value_says_to_encode_categories(tmp_path):
    path = write(tmp_path, "data.csv", "a,kind,label\n1,2,0\n2,3,0\n4,3,1\n3,galaxy,1\n")
    with pytest.raises(
        ValueError,
        match=r"data.csv: column 'kind' is not numeric: 'galaxy' on line 5 \(neuralnet reads "
        r"numbers only; encode categories as integers\)",
    ):
        load_csv(path)


def test_file_without_header_names_columns_by_index(tmp_path):
    path = write(tmp_path, "data.csv", "1,2,0\n3,x,1\n")
    with pytest.raises(
        ValueError, match=r"column 1 \(counting from 0\) is not numeric: 'x' on line 2"
    ):
        load_csv(path)


def test_line_numbers_count_blank_and_comment_lines(tmp_path):
    path = write(tmp_path, "data.csv", "# notes\na,b\n\n1,2\n\n3,\n")
    with pytest.raises(ValueError, match="column 'b' has a missing value on line 6"):
        load_csv(path)


def test_unknown_target_column_lists_the_columns_and_suggests(tmp_path):
    path = write(tmp_path, "data.csv", "a,b,labels\n1,2,0\n")
    with pytest.raises(
        ValueError,
        match=r"data.csv has no column 'label'; its columns are: a, b, labels\. "
        r"Did you mean 'labels'\?",
    ):
        load_csv(path, target_column="label")
    x, y = load_csv(path, target_column="b")
    np.testing.assert_array_equal(x, [[1, 0]])
    assert y.tolist() == [2]


def test_target_column_by_name_needs_a_header_and_index_in_range(tmp_path):
    path = write(tmp_path, "data.csv", "1,2,0\n")
    with pytest.raises(ValueError, match="has no header line, so it has no column 'label'"):
        load_csv(path, target_column="label")
    with pytest.raises(ValueError, match=r"`target_column` must be in \[-3, 2\].*target_column=3"):
        load_csv(path, target_column=3)


def test_ragged_rows_name_the_line(tmp_path):
    path = write(tmp_path, "data.csv", "a,b,label\n1,2,0\n1,2\n")
    with pytest.raises(
        ValueError,
        match=r"data.csv: line 3 has 2 field\(s\), expected 3 as on line 1 \(the header\)",
    ):
        load_csv(path)


def test_explicit_skip_header_names_columns_from_the_last_skipped_line(tmp_path):
    path = write(tmp_path, "data.csv", "exported by a tool\na,b,c\n1,2,3\n4,x,6\n")
    with pytest.raises(ValueError, match="column 'b' is not numeric: 'x' on line 4"):
        load_csv(path, skip_header=2)


def test_valid_file_with_spaces_and_bom_still_loads(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("\ufeffa, b, label\n1, 2.5, 0\n3, 4, 1\n", encoding="utf-8")
    x, y = load_csv(path, target_column="label")
    np.testing.assert_allclose(x, [[1, 2.5], [3, 4]])
    assert y.tolist() == [0, 1] and y.dtype == np.int64


def test_rows_past_the_first_block_load_and_report_their_line(tmp_path):
    values = np.arange(9000 * 3, dtype=np.float64).reshape(9000, 3) % 97
    lines = ["a,b,c"] + [",".join(f"{v:g}" for v in row) for row in values]
    path = write(tmp_path, "data.csv", "\n".join(lines) + "\n")
    x, y = load_csv(path)
    np.testing.assert_array_equal(x, values[:, :2])
    np.testing.assert_array_equal(y, values[:, 2])
    lines[8500] = "1,oops,2"
    path = write(tmp_path, "bad.csv", "\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="column 'b' is not numeric: 'oops' on line 8501"):
        load_csv(path)
