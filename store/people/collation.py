"""The order people expect for Chinese names in a list: by pinyin, as a printed directory sorts them.

Python sorts strings by code point, which puts 北京… after 浙江… and scatters the same sound across the
list. ``pinyin_key`` spells each name in pinyin with ``pypinyin`` (its phrase dictionary reads the
heteronyms in names right: 重庆 chong qing, 长沙 chang sha, which a per-character table gets wrong),
then falls back on the name itself for ties; Latin letters and digits sort among the pinyin.
"""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def pinyin_key(name: str) -> tuple[str, str]:
    """A sort key for ``name``: its pinyin without tones, lower case; then the name itself."""
    return (" ".join(lazy_pinyin(name, style=Style.NORMAL, errors="default")).lower(), name)
