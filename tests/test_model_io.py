"""Model files load without running code (netcoreset.sampler.model_io and the CLI)."""

from __future__ import annotations

import json
import os
import pickle

import pytest
import torch
from _fuzz import Evil, make_data_file, make_model_file
from torch import nn

from netcoreset.sampler import architecture_of, load_model, save_model
from netcoreset.verification.cli import main


def _net(flatten: bool = False) -> nn.Sequential:
    gen = torch.Generator().manual_seed(0)
    net = nn.Sequential(
        *([nn.Flatten()] if flatten else []),
        nn.Linear(6, 5),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Identity(),
        nn.Linear(5, 3, bias=False),
    )
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    return net.eval()


def _same_function(a: nn.Module, b: nn.Module, shape: tuple[int, ...] = (7, 6)) -> bool:
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        return torch.equal(a(x), b(x))


def test_a_whole_sequential_loads_with_the_restricted_unpickler(tmp_path):
    net = _net(flatten=True)
    torch.save(net, tmp_path / "net.pt")
    back = load_model(tmp_path / "net.pt")
    assert [type(m) for m in back] == [type(m) for m in net]
    assert back is not net and _same_function(back, net, (7, 2, 3))
    assert back.training is False and back[3].p == 0.2


def test_nothing_of_the_file_but_tensors_and_numbers_reaches_the_caller(tmp_path):
    """A Linear whose instance dict swaps its forward for a ReLU (built only from allowed
    classes) comes back as a plain Linear: the network is rebuilt from its tensors."""
    net = _net()
    net[0].__dict__["forward"] = nn.ReLU()
    torch.save(net, tmp_path / "odd.pt")
    back = load_model(tmp_path / "odd.pt")
    assert "forward" not in back[0].__dict__
    x = torch.rand(4, 6)
    assert torch.equal(back[0](x), torch.nn.functional.linear(x, net[0].weight, net[0].bias))


def test_a_state_dict_needs_and_matches_its_architecture(tmp_path):
    net = _net()
    torch.save(net.state_dict(), tmp_path / "sd.pt")
    with pytest.raises(ValueError, match="state dict.*architecture"):
        load_model(tmp_path / "sd.pt")
    (tmp_path / "arch.json").write_text(json.dumps({"widths": [6, 5, 3], "bias": [True, False]}))
    for arch in (tmp_path / "arch.json", {"widths": [6, 5, 3], "bias": [True, False]}):
        assert _same_function(load_model(tmp_path / "sd.pt", architecture=arch), net)
    with pytest.raises(
        ValueError, match=r"4\.weight has shape \(3, 5\), the architecture \(4, 5\)"
    ):
        load_model(tmp_path / "sd.pt", architecture={"widths": [6, 5, 4], "bias": [True, False]})
    with pytest.raises(ValueError, match="bias"):
        load_model(tmp_path / "sd.pt", architecture="6,5,3")  # the second layer has no bias


def test_safetensors_round_trip_and_plain_safetensors_with_an_architecture(tmp_path):
    from safetensors.torch import save_file

    net = _net(flatten=True)
    save_model(net, tmp_path / "net.safetensors")
    back = load_model(tmp_path / "net.safetensors")
    assert architecture_of(back) == architecture_of(net) and _same_function(back, net)
    save_file(
        {k: v.contiguous() for k, v in _net().state_dict().items()}, tmp_path / "p.safetensors"
    )
    with pytest.raises(ValueError, match="no architecture in its metadata"):
        load_model(tmp_path / "p.safetensors")
    back = load_model(
        tmp_path / "p.safetensors", architecture={"widths": [6, 5, 3], "bias": [True, False]}
    )
    assert _same_function(back, _net())


@pytest.mark.parametrize("model", [False, True], ids=["code", "code-that-returns-a-model"])
def test_a_crafted_file_runs_no_code_and_is_refused_naming_the_problem(tmp_path, model):
    marker = tmp_path / "CODE-RAN"
    path = tmp_path / "evil.pt"
    torch.save(Evil(marker, model=model), path)
    with pytest.raises(
        ValueError, match=r"refusing to load .*references (io\.open|builtins\.eval)"
    ):
        load_model(path)
    assert not marker.exists()


def test_a_call_of_an_allowed_class_allocates_nothing(tmp_path):
    """REDUCE on an allow-listed class (a pickled ``nn.Linear(10**6, 10**6)``, 4 TB) reaches an
    inert stand-in: no allocation, a clear error."""

    class Huge:
        def __reduce__(self):
            return (nn.Linear, (10**6, 10**6))

    torch.save(Huge(), tmp_path / "huge.pt")
    with pytest.raises(ValueError, match="not a tensor"):
        load_model(tmp_path / "huge.pt")


@pytest.mark.parametrize(
    ("kind", "error", "message"),
    [
        ("pt-meta", ValueError, "meta device"),
        ("pt-tanh", ValueError, "references torch.nn.modules.activation.Tanh"),
        ("pt-custom-class", ValueError, "references _fuzz.CustomNet"),
        ("pt-tensor", ValueError, "holds a Tensor, not an nn.Module"),
        ("garbage", ValueError, "not a readable torch file"),
        ("empty-file", ValueError, "not a readable torch file"),
        ("directory", ValueError, "is not a file"),
        ("missing", FileNotFoundError, "no such model file"),
    ],
)
def test_bad_model_files(tmp_path, kind, error, message):
    with pytest.raises(error, match=message):
        load_model(make_model_file(tmp_path, kind))


def test_flatten_other_than_one_row_per_input_is_refused(tmp_path):
    torch.save(nn.Sequential(nn.Flatten(2), nn.Linear(3, 2)), tmp_path / "f.pt")
    with pytest.raises(ValueError, match="only Flatten"):
        load_model(tmp_path / "f.pt")


def test_unsafe_unpickling_only_behind_the_flag(tmp_path):
    path = make_model_file(tmp_path, "pt-custom-class")
    with pytest.warns(UserWarning, match="can run any code"):
        model = load_model(path, allow_unsafe_pickle=True)
    assert type(model).__name__ == "CustomNet"
    with pytest.raises(ValueError, match="suffix|end in"):
        load_model(tmp_path / "model.pickle")


@pytest.mark.parametrize("kind", ["pt-evil", "pt-evil-model"])
def test_cli_refuses_a_crafted_file_with_exit_status_2(tmp_path, capsys, kind):
    marker = tmp_path / "CODE-RAN"
    model = make_model_file(tmp_path, kind, marker)
    data = make_data_file(tmp_path, "npy")
    for argv in (
        ["compress", str(model), "--data", str(data), "--keep", "0.5"],
        ["verify", "--model", str(model), "--data", str(data), "--eps", "0.5", "--trials", "2"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "refusing to load" in err[0] and "--allow-unsafe-pickle" in err[0]
        assert not marker.exists()


def test_cli_unsafe_flag_warns_on_one_line(tmp_path, capsys):
    model = make_model_file(tmp_path, "pt-sequential")
    data = make_data_file(tmp_path, "npy")
    argv = ["compress", str(model), "--data", str(data), "--keep", "0.5", "--allow-unsafe-pickle"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "netcoreset compress: warning: unpickling" in err and "Traceback" not in err


def test_state_dict_through_the_cli_with_architecture(tmp_path, capsys):
    net = _net()
    torch.save(net.state_dict(), tmp_path / "sd.pt")
    (tmp_path / "arch.json").write_text(json.dumps({"widths": [6, 5, 3], "bias": [True, False]}))
    data = make_data_file(tmp_path, "npy")
    argv = ["compress", str(tmp_path / "sd.pt"), "--data", str(data), "--keep", "0.5", "--json"]
    assert main(argv) == 2
    assert "--architecture" in capsys.readouterr().err
    assert main([*argv, "--architecture", str(tmp_path / "arch.json")]) == 0
    assert json.loads(capsys.readouterr().out)["nnz_original"] == 6 * 5 + 5 + 5 * 3


def test_pickle_protocol_of_the_stand_ins_is_not_importable_elsewhere():
    """The stand-ins are only mapped inside load_model: afterwards torch.load with
    weights_only=True refuses a Sequential again (the allow-list is not left behind)."""
    import io

    buf = io.BytesIO()
    torch.save(_net(), buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buf, weights_only=True)
    assert os.environ.get("NETCORESET_TRACEBACK") is None


def _square_state(order):
    torch.manual_seed(0)
    ws = {name: torch.rand(3, 3) for name in ("0", "2", "4")}
    return ws, {f"{n}.weight": ws[n] for n in order}


def test_numbered_layers_go_in_numeric_order_whatever_the_files_order(tmp_path):
    """A state dict listing 4, 0, 2 (square layers: shapes cannot tell) is read as 0, 2, 4;
    so is a safetensors file (whose names are stored sorted as text)."""
    ws, state = _square_state(["4", "0", "2"])
    torch.save(state, tmp_path / "m.pt")
    arch = {"widths": [3, 3, 3, 3], "bias": False}
    net = load_model(tmp_path / "m.pt", architecture=arch)
    got = [m.weight for m in net if isinstance(m, nn.Linear)]
    assert all(torch.equal(g, ws[n]) for g, n in zip(got, ["0", "2", "4"], strict=True))
    from safetensors.torch import save_file

    last = torch.rand(3, 3)
    tensors = {f"{n}.weight": ws[n] for n in ("0", "2", "4")} | {"10.weight": last}
    save_file(tensors, str(tmp_path / "m.safetensors"))  # stored as 0, 10, 2, 4
    net = load_model(tmp_path / "m.safetensors", architecture={"widths": [3] * 5, "bias": False})
    got = [m.weight for m in net if isinstance(m, nn.Linear)]
    assert all(
        torch.equal(g, w) for g, w in zip(got, [ws["0"], ws["2"], ws["4"], last], strict=True)
    )


def test_unnumbered_layers_are_placed_by_shape_or_refused(tmp_path):
    torch.manual_seed(0)
    a, b = torch.rand(5, 4), torch.rand(3, 5)
    torch.save({"out.weight": b, "fc.weight": a}, tmp_path / "ok.pt")
    net = load_model(tmp_path / "ok.pt", architecture={"widths": [4, 5, 3], "bias": False})
    lins = [m for m in net if isinstance(m, nn.Linear)]
    assert torch.equal(lins[0].weight, a) and torch.equal(lins[1].weight, b)
    torch.save(
        {"hidden.weight": torch.rand(3, 3), "alpha.weight": torch.rand(3, 3)},
        tmp_path / "square.pt",
    )
    with pytest.raises(ValueError, match="do not say their order"):
        load_model(tmp_path / "square.pt", architecture={"widths": [3, 3, 3], "bias": False})


def test_architecture_from_metadata_is_never_a_path(tmp_path):
    from safetensors.torch import save_file

    (tmp_path / "arch.json").write_text('{"widths": [4, 3], "bias": false}')
    save_file(
        {"0.weight": torch.rand(3, 4)},
        str(tmp_path / "m.safetensors"),
        metadata={"netcoreset_architecture": str(tmp_path / "arch.json")},
    )
    with pytest.raises(ValueError, match="architecture") as info:
        load_model(tmp_path / "m.safetensors")
    assert "widths" not in str(info.value)  # the file was not read
    # the caller may name a file, but only a regular one
    net = load_model(tmp_path / "m.safetensors", architecture=tmp_path / "arch.json")
    assert net[0].weight.shape == (3, 4)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.json")
        with pytest.raises(ValueError, match="not a regular file"):
            load_model(tmp_path / "m.safetensors", architecture=tmp_path / "fifo.json")
