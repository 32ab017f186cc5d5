import kwok.client


def test_public_surface_is_pinned() -> None:
    assert sorted(kwok.client.__all__) == sorted([
        "PATCH_CONTENT_TYPES", "ApiError", "Backoff", "Client", "ClientConfig", "ConfigError",
        "Credentials", "HTTPTransport", "Headers", "Informer", "Resource", "Response", "Transport", "object_key",
    ])
