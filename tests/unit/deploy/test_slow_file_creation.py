"""The embedded server's warning about a disk where ClickHouse's file churn is slow."""

from __future__ import annotations

from pathlib import Path

from deploy.local.clickhouse_server import slow_file_creation

MOUNTS = """\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
25 22 0:21 / /dev/shm rw,relatime shared:4 - tmpfs tmpfs rw,size=24683784k
31 22 8:17 / /data rw,relatime shared:9 - ext4 /dev/sdb1 rw
40 22 0:40 / /srv rw,relatime shared:12 - xfs /dev/sdc rw
"""


def _proc(tmp_path: Path, journaled: list[str]) -> tuple[Path, Path]:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(MOUNTS)
    journals = tmp_path / "jbd2"
    journals.mkdir()
    for device in journaled:
        (journals / f"{device}-8").mkdir()
    return mountinfo, journals


def test_ext4_without_a_journal_is_named_with_its_mount(tmp_path: Path) -> None:
    mountinfo, journals = _proc(tmp_path, journaled=["sdb1"])
    why = slow_file_creation(Path("/var/lib/ch"), mountinfo, journals)
    assert why is not None
    assert why.startswith("/ (/dev/vda) is ext4 without a journal")


def test_a_journaled_ext4_a_memory_filesystem_and_xfs_are_not(tmp_path: Path) -> None:
    mountinfo, journals = _proc(tmp_path, journaled=["sdb1"])
    assert slow_file_creation(Path("/data/clickhouse"), mountinfo, journals) is None
    assert slow_file_creation(Path("/dev/shm/x"), mountinfo, journals) is None
    assert slow_file_creation(Path("/srv/ch"), mountinfo, journals) is None


def test_the_longest_mount_point_decides(tmp_path: Path) -> None:
    mountinfo, journals = _proc(tmp_path, journaled=["vda"])
    # /data is not journaled here, / is: /data/x is on /data, /database is on /.
    assert slow_file_creation(Path("/data/x"), mountinfo, journals) is not None
    assert slow_file_creation(Path("/database"), mountinfo, journals) is None


def test_without_the_kernel_files_nothing_is_claimed(tmp_path: Path) -> None:
    assert slow_file_creation(Path("/"), tmp_path / "absent", tmp_path / "jbd2") is None
