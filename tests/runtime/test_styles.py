"""Parameter serialization against the OpenAPI specification's style examples (3.1.1 table, which follows
RFC 6570 for `label`), for `color` = "", "blue", ["blue","black","brown"] and {"R":100,"G":200,"B":150}."""

import pytest
from specbridge_runtime import Param
from specbridge_runtime._mechanisms.styles import cookie_text, header_value, path_value, query_text

EMPTY, STRING, ARRAY, OBJECT = "", "blue", ["blue", "black", "brown"], {"R": 100, "G": 200, "B": 150}
NA = None

# style, explode, empty, string, array, object (NA: the table says n/a)
TABLE = [
    ("matrix", False, ";color", ";color=blue", ";color=blue,black,brown", ";color=R,100,G,200,B,150"),
    ("matrix", True, ";color", ";color=blue", ";color=blue;color=black;color=brown", ";R=100;G=200;B=150"),
    ("label", False, ".", ".blue", ".blue,black,brown", ".R,100,G,200,B,150"),
    ("label", True, ".", ".blue", ".blue.black.brown", ".R=100.G=200.B=150"),
    ("simple", False, NA, "blue", "blue,black,brown", "R,100,G,200,B,150"),
    ("simple", True, NA, "blue", "blue,black,brown", "R=100,G=200,B=150"),
    ("form", False, "color=", "color=blue", "color=blue,black,brown", "color=R,100,G,200,B,150"),
    ("form", True, "color=", "color=blue", "color=blue&color=black&color=brown", "R=100&G=200&B=150"),
    ("spaceDelimited", False, NA, NA, "color=blue%20black%20brown", "color=R%20100%20G%20200%20B%20150"),
    ("pipeDelimited", False, NA, NA, "color=blue|black|brown", "color=R|100|G|200|B|150"),
    ("deepObject", True, NA, NA, NA, "color[R]=100&color[G]=200&color[B]=150"),
]
PATH_STYLES = {"matrix", "label", "simple"}


def _cases():
    for style, explode, *expected in TABLE:
        for value, text in zip((EMPTY, STRING, ARRAY, OBJECT), expected, strict=True):
            if text is not NA:
                yield pytest.param(style, explode, value, text, id=f"{style}-{explode}-{type(value).__name__}-{text}")


@pytest.mark.parametrize(("style", "explode", "value", "expected"), list(_cases()))
def test_the_specification_examples(style, explode, value, expected):
    location = "path" if style in PATH_STYLES else "query"
    param = Param(arg="color", name="color", location=location, style=style, explode=explode)
    serialize = path_value if location == "path" else query_text
    assert serialize(param, value) == expected


def test_defaults_are_simple_in_path_and_exploded_form_in_query():
    assert path_value(Param(arg="c", name="color", location="path"), ARRAY) == "blue,black,brown"
    assert query_text(Param(arg="c", name="color", location="query"), ARRAY) == "color=blue&color=black&color=brown"


def test_header_values_use_simple_style():
    param = Param(arg="c", name="X-Color", location="header")
    assert header_value(param, ARRAY) == "blue,black,brown"
    assert header_value(param, OBJECT) == "R,100,G,200,B,150"
    assert header_value(Param(arg="c", name="X-Color", location="header", explode=True), OBJECT) == "R=100,G=200,B=150"


def test_a_header_value_cannot_inject_another_header():
    text = header_value(Param(arg="c", name="X-Color", location="header"), "blue\r\nX-Admin: 1")
    assert "\r" not in text and "\n" not in text
    assert text == "blue%0D%0AX-Admin: 1"


def test_cookies_use_form_style_and_cannot_add_cookies():
    assert cookie_text(Param(arg="c", name="color", location="cookie"), "blue") == "color=blue"
    unexploded = Param(arg="c", name="color", location="cookie", explode=False)
    assert cookie_text(unexploded, ARRAY) == "color=blue,black,brown"
    assert cookie_text(Param(arg="c", name="color", location="cookie"), ARRAY) == "color=blue; color=black; color=brown"
    assert cookie_text(Param(arg="c", name="s", location="cookie"), "a; admin=1") == "s=a%3B%20admin=1"


def test_query_values_are_encoded_unless_reserved_characters_are_allowed():
    value = "a/b?c&d=e#f g+h,i"
    strict = Param(arg="q", name="q", location="query")
    assert query_text(strict, value) == "q=a%2Fb%3Fc%26d%3De%23f%20g%2Bh%2Ci"
    reserved = Param(arg="q", name="q", location="query", allow_reserved=True)
    # Reserved characters pass, except those that would break the query's structure.
    assert query_text(reserved, value) == "q=a/b?c%26d%3De%23f%20g%2Bh,i"


def test_path_values_are_encoded_with_every_reserved_character():
    param = Param(arg="id", name="id", location="path")
    assert path_value(param, "../a/b?c#d%2Fe") == "..%2Fa%2Fb%3Fc%23d%252Fe"


def test_scalars_booleans_and_nested_values():
    query = Param(arg="q", name="q", location="query")
    assert query_text(query, True) == "q=true"
    assert query_text(query, 1.5) == "q=1.5"
    assert query_text(query, [{"a": 1}]) == "q=%7B%22a%22%3A1%7D"
    deep = Param(arg="f", name="filter", location="query", style="deepObject", explode=True)
    assert query_text(deep, {"created": {"gte": 5}, "ids": ["a", "b"]}) == (
        "filter[created][gte]=5&filter[ids][0]=a&filter[ids][1]=b")


def test_empty_arrays_and_objects_add_nothing():
    query = Param(arg="q", name="q", location="query")
    assert query_text(query, []) == ""
    assert query_text(query, {}) == ""
