"""A local S3 server (moto in server mode on 127.0.0.1) for tests of ``s3://`` storage roots.

The pipeline creates ``Storage(settings.storage_root)`` without storage options, so the endpoint
and credentials reach s3fs the standard way: ``AWS_ENDPOINT_URL`` and the ``AWS_*`` key variables
(also inherited by Dask worker processes started afterwards). Use in a test module with
``s3_server = tests.s3_server.s3_server`` and ``s3_root = tests.s3_server.s3_root``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # noqa: S105 - moto's dummy credentials
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_SESSION_TOKEN": "testing",
}


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def new_bucket(self) -> str:
        import s3fs

        name = f"produktivitas-{uuid.uuid4().hex[:12]}"
        fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": self.endpoint}, skip_instance_cache=True)
        fs.mkdir(name)
        return name


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = {k: os.environ.get(k) for k in [*S3_ENV, "AWS_ENDPOINT_URL"]}
    os.environ.update(S3_ENV)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        yield S3Server(endpoint)
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def s3_root(s3_server: S3Server) -> str:
    """A fresh bucket per test, as a storage root URL with a prefix."""
    return f"s3://{s3_server.new_bucket()}/data"
