"""A path convertor for database ids: 1 to 18 digits, so an absurd number is a 404, not a database error."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class DbIdConvertor(Convertor[int]):
    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(int(value))


register_url_convertor("dbid", DbIdConvertor())
