"""What an attached file is called and whether it is stored (domain.files). No disk."""

import pytest

from svcdesk.domain import files
from svcdesk.domain.files import File


@pytest.mark.parametrize("given, safe", [
    ("故障照片.jpg", "故障照片.jpg"),
    ("C:\\Users\\张三\\Desktop\\发票.pdf", "发票.pdf"),
    ("../../../etc/passwd", "passwd"),
    ("..", "attachment"),
    ("", "attachment"),
    ("nul", "_nul"),
    ("com1.txt", "_com1.txt"),
    ('报价单<最终>:"v2"|?.xlsx', "报价单_最终___v2___.xlsx"),
    ("line\r\nbreak.txt", "line__break.txt"),
    ("trailing dots...", "trailing dots"),
    ("ﾃﾞｼﾞﾀﾙ.txt", "ﾃﾞｼﾞﾀﾙ.txt"),
    ("invoice\u202efdp.exe", "invoice_fdp.exe"),  # read as invoiceexe.pdf (the corpus)
    ("a\u2067b\u2069.txt", "a_b_.txt"),
])
def test_a_name_is_made_safe_to_keep_in_one_folder_on_every_system(given, safe):
    assert files.safe_name(given) == safe


def test_a_long_name_keeps_its_extension_within_both_limits():
    name = files.safe_name("很长的文件名" * 40 + ".mp4")
    assert name.endswith(".mp4") and len(name) <= files.NAME_LENGTH
    assert len(name.encode("utf-8")) <= files.NAME_BYTES
    assert len(files.entry_of(b"x", "a" * 300 + ".log")) <= 100


def test_attaching_stores_each_content_once_and_refuses_what_is_too_large():
    first = files.attach([], [File("a.jpg", b"1"), File("b.jpg", b"1"), File("big.mp4", b"xx")],
                         max_bytes=1)
    assert [files.name_of(e) for e in first.entries] == ["a.jpg"]
    assert [s.entry for s in first.stored] == first.entries
    assert first.refused == [("b.jpg", "the same file is attached already, as a.jpg"),
                             ("big.mp4", "2 B, over the limit of 1 B "
                                         "(attachments.max_bytes)")]
    again = files.attach(first.entries, [File("a.jpg", b"2")], max_bytes=10)
    assert len(again.entries) == 2 and again.entries[0] == first.entries[0]
    assert again.entries[0] != again.entries[1]  # one name, two files: two places


def test_an_attachment_is_found_by_name_or_digest_and_an_ambiguous_name_says_so():
    one, two = files.entry_of(b"1", "a.jpg"), files.entry_of(b"2", "a.jpg")
    three = files.entry_of(b"3", "b.txt")
    assert files.find([one, three], "a.jpg") == one
    assert files.find([one, two], two[:6]) == two
    with pytest.raises(LookupError, match="2 attachments are called a.jpg"):
        files.find([one, two], "a.jpg")
    with pytest.raises(LookupError, match="the ticket has: a.jpg, b.txt"):
        files.find([one, three], "c.png")


def test_sizes_read_as_people_say_them():
    assert [files.size_text(n) for n in (12, 2048, 1536 * 1024, 25 << 20, 3 << 30)] == [
        "12 B", "2.0 KB", "1.5 MB", "25 MB", "3.0 GB"]
