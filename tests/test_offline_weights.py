"""Pretrained timm weights without network and without ``HF_HUB_OFFLINE=1``: the run finds out at
once that the hub cannot be reached and reads the Hugging Face cache alone, or fails at once naming
the model, the cache folder and the fix (huggingface_hub alone retries for about 46 s a file)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import timm
import torch
from huggingface_hub import constants
from safetensors.torch import save_file

from lssat_framework.errors import ComponentError
from lssat_timm import hub
from lssat_timm.weights import create_model

#: a timm test model (370 k parameters) whose pretrained tag is on the hub
MODEL, HUB_ID = "test_resnet", "timm/test_resnet.r160_in1k"
#: well under huggingface_hub's retries (about 46 s a file) and above a model build on a busy machine
PROMPT_S = 15


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """No connection can be opened (huggingface_hub's own connections included), HF_HUB_OFFLINE
    unset, and an empty Hugging Face cache; yields the cache folder."""
    def refuse(*args, **kwargs):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "hub"


def fill_cache(cache, state: dict[str, torch.Tensor]) -> None:
    """Lay out the Hugging Face cache as ``hf download`` leaves it, holding ``state`` as the model's weights."""
    commit = "0" * 40
    repo = cache / f"models--{HUB_ID.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    save_file(state, str(repo / "snapshots" / commit / "model.safetensors"))


def test_without_network_and_cache_it_fails_at_once_naming_model_cache_and_fix(no_network):
    start = time.perf_counter()
    with pytest.raises(ComponentError) as caught:
        create_model(MODEL, {}, None, True)
    elapsed = time.perf_counter() - start
    message = str(caught.value)
    assert elapsed < PROMPT_S, f"{elapsed:.1f} s: the hub was asked"
    assert "'test_resnet.r160_in1k' are not in the Hugging Face cache " + str(no_network) in message
    assert "no connection to huggingface.co:443: [Errno 101] Network is unreachable" in message
    assert f"hf download {HUB_ID}" in message and "HF_HUB_OFFLINE=1" in message
    assert constants.HF_HUB_OFFLINE is False  # the cache-alone mode ends with the load


def test_without_network_the_cache_is_read(no_network, capsys):
    saved = {key: value.contiguous() for key, value in timm.create_model(MODEL).state_dict().items()}
    fill_cache(no_network, saved)
    start = time.perf_counter()
    model = create_model(MODEL, {}, None, True)
    assert time.perf_counter() - start < PROMPT_S
    loaded = model.state_dict()
    assert loaded and all(torch.equal(loaded[key], saved[key]) for key in loaded)
    assert "the pretrained weights 'test_resnet.r160_in1k' were read from its cache" in capsys.readouterr().err


def test_a_hanging_name_lookup_is_not_waited_for(monkeypatch):
    release = threading.Event()

    def hang(*args, **kwargs):
        release.wait(30)
        raise OSError("released by the test")

    monkeypatch.setattr(socket, "create_connection", hang)
    start = time.perf_counter()
    try:
        why = hub.unreachable(timeout_s=0.2)
    finally:
        release.set()
    assert time.perf_counter() - start < 2
    assert why == "no connection to huggingface.co:443: no answer within 0.2 s"


def test_the_probe_goes_to_the_proxy_that_reaches_the_hub(monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert hub.hub_address() == ("proxy.example", 3128)
    monkeypatch.setenv("NO_PROXY", "huggingface.co")
    assert hub.hub_address() == ("huggingface.co", 443)
