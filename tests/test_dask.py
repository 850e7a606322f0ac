"""A real Dask cluster (two worker processes on loopback) gives the serial numbers to the bit."""

import pytest

import hzforecast as hz
from hzforecast.simulate import BLOCK

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_dask_equals_serial(client, jiaozuo):
    kw = {"scenario": "pessimistic", "n_paths": 6 * BLOCK + 10, "rng": 31}
    serial = hz.assess(jiaozuo, **kw, chunk_size=2 * BLOCK)
    ex = client.get_executor()
    dask = hz.assess(jiaozuo, **kw, chunk_size=BLOCK, executor=ex)
    assert serial.to_frame().equals(dask.to_frame())
    p_serial = hz.simulate(jiaozuo, **kw)
    p_dask = hz.simulate(jiaozuo, **kw, executor=ex, chunk_size=BLOCK)
    for k in p_serial.states:
        assert p_serial.states[k].tobytes() == p_dask.states[k].tobytes()
    assert len(client.scheduler_info()["workers"]) == 2
