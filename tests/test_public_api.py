import meshcharts


def test_public_names_are_sorted_and_importable() -> None:
    assert meshcharts.__all__, "meshcharts exports nothing"
    assert meshcharts.__all__ == sorted(meshcharts.__all__, key=str.casefold)
    for name in meshcharts.__all__:
        assert getattr(meshcharts, name) is not None


def test_every_error_is_a_meshcharts_error() -> None:
    exported = [getattr(meshcharts, name) for name in meshcharts.__all__]
    assert any(isinstance(v, type) and issubclass(v, Exception) for v in exported), (
        "meshcharts exports no error class"
    )
    for name in meshcharts.__all__:
        value = getattr(meshcharts, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, meshcharts.MeshchartsError), name
