"""Pre-registration: the split by hashes of point indices, the checks that refuse a changed
split, code, data or source, the log of registrations per certification sample and its cost,
and ``bound generalization --register / --registration`` end to end (in-process).

Deterministic: fixed seeds, no statistical assertions."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from netcoreset.bounds import occam_bound
from netcoreset.verification.cli import main
from netcoreset.verification.experiments import load_digits_split, train_mlp
from netcoreset.verification.experiments.registration import (
    Registration,
    RegistrationError,
    RegistrationLog,
    certification_place,
    check_registration,
    check_reproduction,
    indices_sha256,
    make_registration,
    registration_bits,
    reproduction_record,
    split_indices,
)

SRC = "cd" * 32
FP = "ab" * 32


def _reg(**kw):
    args = {"code": {"grid": {"keep": [0.1, 0.5]}}, "delta": 0.05}
    args.update(kw)
    return make_registration("digits", FP, 1000, 400, 3, args["code"], args["delta"],
                             source_sha256=SRC)  # fmt: skip


def test_split_is_disjoint_covering_and_reproducible():
    d, c = split_indices(1000, 400, 3)
    assert d.size == 400 and c.size == 600
    assert np.intersect1d(d, c).size == 0 and np.union1d(d, c).tolist() == list(range(1000))
    d2, c2 = split_indices(1000, 400, 3)
    assert indices_sha256(d) == indices_sha256(d2) and indices_sha256(c) == indices_sha256(c2)
    assert indices_sha256(split_indices(1000, 400, 4)[1]) != indices_sha256(c)
    with pytest.raises(ValueError, match="design_size must be an integer in"):
        split_indices(10, 10, 0)


def test_registration_round_trip_and_hash(tmp_path):
    r = _reg()
    path = r.save(tmp_path / "r.json")
    back = Registration.load(path)
    assert back == r and back.sha256 == r.sha256
    assert _reg(delta=0.01).sha256 != r.sha256  # every field is in the hash
    with pytest.raises(ValueError, match="never overwritten"):
        r.save(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dataset": "mnist5k"}, "is for data set 'digits'"),
        ({"data_fingerprint": "00" * 32}, "differ from the registered data"),
        ({"code": {"grid": {"keep": [0.1, 0.2]}}}, r"grid\.keep registered as \[0\.1, 0\.5\]"),
        ({"source_sha256": "ee" * 32}, "package source differs"),
    ],
)
def test_certifying_refuses_anything_not_registered(change, message):
    r = _reg()
    given = {"dataset": "digits", "data_fingerprint": FP, "code": r.code, "source_sha256": SRC}
    check_registration(r, **given)  # the registered values pass
    given.update(change)
    with pytest.raises(RegistrationError, match=message):
        check_registration(r, **given)


def test_a_tampered_split_is_refused(tmp_path):
    data = _reg().to_dict()
    data["certification_sha256"] = indices_sha256(np.arange(600))
    with pytest.raises(RegistrationError, match="split recomputed from its seed"):
        check_registration(Registration.from_dict(data), dataset="digits", data_fingerprint=FP,
                           code=data["code"], source_sha256=SRC)  # fmt: skip
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**data, "delta": "0.05"}))
    with pytest.raises(ValueError, match="field 'delta' must be a float"):
        Registration.load(bad)
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        Registration.load(bad)


def test_log_positions_and_the_cost_of_trying_again(tmp_path):
    log = RegistrationLog.open(tmp_path, FP, "ef" * 32, "digits")
    assert [log.index_of(h) for h in ("a" * 64, "b" * 64, "a" * 64, "c" * 64)] == [1, 2, 1, 3]
    again = RegistrationLog.open(tmp_path, FP, "ef" * 32, "digits")  # read back from disk
    assert [e["sha256"][0] for e in again.entries] == ["a", "b", "c"]
    # the weights 1/(i(i+1)) sum to 1 - 1/(K+1) <= 1 over any K registrations
    assert math.fsum(2.0 ** -registration_bits(i) for i in range(1, 5001)) == pytest.approx(
        1 - 1 / 5001, rel=1e-12
    )
    assert registration_bits(1) == 1.0 and registration_bits(3) >= math.log2(3)
    # the same indices of another data set are another sample: another log
    other = RegistrationLog.open(tmp_path, "00" * 32, "ef" * 32, "digits")
    assert other.path != log.path and other.index_of("c" * 64) == 1
    bad = json.loads(log.path.read_text())
    log.path.write_text(json.dumps({**bad, "data_fingerprint": "11" * 32}))
    with pytest.raises(ValueError, match="not the registration log of this"):
        RegistrationLog.open(tmp_path, FP, "ef" * 32, "digits")


# --- reproducing a certified result on a changed source ------------------------------------------


def _certify_once(tmp_path, reg, source, net, out):
    """What a pre-registered script does: its place in the log (or the result to reproduce),
    the certified network's code and row, the reproduction check, the JSON written."""
    from netcoreset.verification.experiments.certificate_codes import network_entry

    log = RegistrationLog.of(tmp_path, reg)
    index, committed = certification_place(log, reg, source, out)
    x = torch.rand(50, 4, generator=torch.Generator().manual_seed(0))
    k = int((net(x).argmax(1) != (x[:, 0] > x[:, 1]).long()).sum())
    entry = network_entry(net, row=["rows", 0], points={}, delta=reg.delta)
    rows = [{"bound": occam_bound(k, 50, 0.0, reg.delta, "binomial").bound, "n": 50,
             "code_sha256": entry.sha256}]  # fmt: skip
    result = {"registration": {"sha256": reg.sha256, "index_on_sample": index}, "rows": rows}
    if committed is not None:
        result.update(reproduction_record(reg, source, committed,
                                          check_reproduction(reg, committed, rows)))  # fmt: skip
    out.write_text(json.dumps(result))
    return result


def _net(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))


def test_the_same_code_on_a_changed_source_is_reproduced_at_no_cost(tmp_path):
    reg, out = _reg(), tmp_path / "result.json"
    first = _certify_once(tmp_path, reg, SRC, _net(0), out)
    log_before = RegistrationLog.of(tmp_path, reg).path.read_bytes()
    check_registration(reg, dataset="digits", data_fingerprint=FP, code=reg.code,
                       source_sha256="ee" * 32, reproduce=True)  # fmt: skip
    again = _certify_once(tmp_path, reg, "ee" * 32, _net(0), out)
    assert again["reproduced"] is True and again["registered_source_sha256"] == SRC
    assert again["source_sha256"] == "ee" * 32 and "code_sha256" in again["compared"]
    assert again["registration"] == first["registration"] and again["rows"] == first["rows"]
    assert RegistrationLog.of(tmp_path, reg).path.read_bytes() == log_before  # nothing logged


def test_a_different_code_on_a_changed_source_is_refused(tmp_path):
    reg, out = _reg(), tmp_path / "result.json"
    _certify_once(tmp_path, reg, SRC, _net(0), out)
    committed = out.read_bytes()
    with pytest.raises(RegistrationError, match=r"row 0 \(code_sha256.*register again"):
        _certify_once(tmp_path, reg, "ee" * 32, _net(1), out)
    assert out.read_bytes() == committed  # nothing written
    assert len(RegistrationLog.of(tmp_path, reg).entries) == 1


def test_reproducing_refuses_what_was_never_certified_or_registered(tmp_path):
    reg, out = _reg(), tmp_path / "result.json"
    with pytest.raises(RegistrationError, match="never certified.*register again"):
        _certify_once(tmp_path, reg, "ee" * 32, _net(0), out)  # no log entry, no result
    _certify_once(tmp_path, reg, SRC, _net(0), out)
    with pytest.raises(RegistrationError, match="no result at"):
        _certify_once(tmp_path, reg, "ee" * 32, _net(0), tmp_path / "other.json")
    # another delta is another registration: the committed result is not its own
    other = _reg(delta=0.01)
    RegistrationLog.of(tmp_path, other).index_of(other.sha256)
    with pytest.raises(RegistrationError, match="not certified under this registration"):
        _certify_once(tmp_path, other, "ee" * 32, _net(0), out)
    # a changed data set, code or split is refused in reproduce mode as before
    for change, message in [({"data_fingerprint": "00" * 32}, "differ from the registered"),
                            ({"code": {"grid": {"keep": [0.2]}}}, "code differs")]:  # fmt: skip
        given = {"dataset": "digits", "data_fingerprint": FP, "code": reg.code, **change}
        with pytest.raises(RegistrationError, match=message):
            check_registration(reg, source_sha256="ee" * 32, reproduce=True, **given)
    data = {**reg.to_dict(), "certification_sha256": indices_sha256(np.arange(600))}
    with pytest.raises(RegistrationError, match="split recomputed"):
        check_registration(Registration.from_dict(data), dataset="digits", data_fingerprint=FP,
                           code=reg.code, source_sha256="ee" * 32, reproduce=True)  # fmt: skip


def test_reproducing_compares_the_stochastic_rows_numbers(tmp_path):
    reg = _reg()
    row = {"kind": "stochastic", "bound": 0.3, "kl_nats": 4.25, "mc_error": 0.1, "mc_draws": 500}
    committed = {"registration": {"sha256": reg.sha256}, "rows": [row]}
    assert check_reproduction(reg, committed, [dict(row)]) == ["bound", "kl_nats", "mc_draws",
                                                               "mc_error"]  # fmt: skip
    with pytest.raises(RegistrationError, match=r"row 0 \(kl_nats\)"):
        check_reproduction(reg, committed, [{**row, "kl_nats": 4.250000001}])


# --- the command line -----------------------------------------------------------------------------

QUICK = ["--keeps", "0.3,1", "--levels", "4", "--methods", "magnitude"]


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    x, y, _, _ = load_digits_split()
    net = train_mlp(x, y, (16,), epochs=10, seed=0)
    path = tmp_path_factory.mktemp("reg") / "digits16.pt"
    torch.save(net, path)
    return str(path)


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_without_a_registration_the_bound_is_labelled_exploratory(digits_model, capsys):
    argv = ["bound", "generalization", digits_model, "--dataset", "digits", *QUICK]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("EXPLORATORY: NOT A CERTIFICATE: the options and the model's")
    out = _json(capsys, [*argv, "--json"])
    assert out["status"] == "exploratory: not a certificate" and "registration" not in out
    assert out["n"] == 1258 and "why_not_a_certificate" in out


def test_register_then_certify_on_the_certification_part(digits_model, capsys, tmp_path):
    base = ["bound", "generalization", digits_model, "--dataset", "digits", *QUICK]
    reg_path = tmp_path / "r1.json"
    made = _json(capsys, [*base, "--register", str(reg_path), "--design-size", "458", "--json"])
    assert made["certification_size"] == 800
    out = _json(capsys, [*base, "--registration", str(reg_path), "--json"])
    reg = out["registration"]
    assert out["status"] == "certificate" and reg["sha256"] == made["sha256"]
    assert out["n"] == 800 and reg["index_on_sample"] == 1 and reg["bits"] == 1.0
    assert out["delta"] == pytest.approx(0.025)  # delta 0.05 at the weight 1/2
    k = round(out["train_error"] * out["n"])
    assert out["bound"] == occam_bound(k, 800, out["description_bits"], 0.025, "binomial").bound
    assert out["configuration"]["architecture"] == "64-16-10"
    # the same registration again: still the first on this sample; the text prints the hash
    assert main([*base, "--registration", str(reg_path)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"registration {made['sha256']}") and "registration 1 of 1" in text
    # a second registration on the same certification sample pays log2(2 * 3) bits
    reg2 = tmp_path / "r2.json"
    other = [*base[:5], "--keeps", "0.3", "--levels", "4", "--methods", "magnitude"]
    _json(capsys, [*other, "--register", str(reg2), "--design-size", "458", "--json"])
    out2 = _json(capsys, [*other, "--registration", str(reg2), "--json"])
    assert out2["registration"]["index_on_sample"] == 2
    assert out2["registration"]["bits"] == pytest.approx(math.log2(6))
    logs = list(tmp_path.glob("log-*.json"))
    assert len(logs) == 1 and len(json.loads(logs[0].read_text())["registrations"]) == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--keeps", "0.3"], "the code differs from the registered one: grid.settings.paper.keep"),
        (["--delta", "0.1"], "differs from the registered 0.05"),
        (["--architectures", "64-16-10,64-32-10"], "grid.settings.paper.architecture"),
    ],
)
def test_certifying_a_changed_code_exits_2(digits_model, capsys, tmp_path, extra, message):
    base = ["bound", "generalization", digits_model, "--dataset", "digits", *QUICK]
    reg_path = tmp_path / "r.json"
    assert main([*base, "--register", str(reg_path)]) == 0
    capsys.readouterr()
    assert main([*base, *extra, "--registration", str(reg_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not list(tmp_path.glob("log-*.json"))  # nothing logged for a refused registration


def test_register_refuses_to_overwrite_and_bad_architectures(digits_model, capsys, tmp_path):
    base = ["bound", "generalization", digits_model, "--dataset", "digits", *QUICK]
    reg_path = tmp_path / "r.json"
    reg_path.write_text("{}")
    assert main([*base, "--register", str(reg_path)]) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert main([*base, "--architectures", "64-32-10"]) == 2
    assert "not among --architectures" in capsys.readouterr().err
    assert main([*base, "--architectures", "64-x-10"]) == 2
    assert "dash-joined widths" in capsys.readouterr().err
    assert main([*base, "--design-size", "100"]) == 2
    assert "apply to --register only" in capsys.readouterr().err


def test_a_changed_source_reproduces_a_cli_certificate_or_refuses(
    digits_model, capsys, tmp_path, monkeypatch
):
    from netcoreset.verification.experiments import provenance

    base = ["bound", "generalization", digits_model, "--dataset", "digits", *QUICK]
    reg_path, committed = tmp_path / "r.json", tmp_path / "result.json"
    assert main([*base, "--register", str(reg_path), "--design-size", "458"]) == 0
    capsys.readouterr()
    out = _json(capsys, [*base, "--registration", str(reg_path), "--json"])
    committed.write_text(json.dumps(out))
    certify = [*base, "--registration", str(reg_path)]
    # on the registered source there is nothing to reproduce
    assert main([*certify, "--reproduce", str(committed)]) == 2
    assert "source is the registered one" in capsys.readouterr().err
    assert main([*base, "--reproduce", str(committed)]) == 2
    assert "applies to --registration only" in capsys.readouterr().err
    monkeypatch.setattr(provenance, "source_digest", lambda files: "ee" * 32)
    assert main(certify) == 2  # a changed source: register again, or reproduce
    assert "--reproduce RESULT" in capsys.readouterr().err
    for bad in ("[1, 2]", '{"best": 1}', '{"best": {}, "curve": "x"}'):
        (tmp_path / "bad.json").write_text(bad)
        assert main([*certify, "--reproduce", str(tmp_path / "bad.json")]) == 2
        assert "the JSON object that --json prints" in capsys.readouterr().err
    again = _json(capsys, [*certify, "--reproduce", str(committed), "--json"])
    assert again["reproduction"]["reproduced"] and again["registration"] == out["registration"]
    assert {"bound", "train_error", "description_bits"} <= set(again["reproduction"]["compared"])
    assert {k: v for k, v in again.items() if k != "reproduction"} == out
    assert main([*certify, "--reproduce", str(committed)]) == 0
    assert "reproduced: every number" in capsys.readouterr().out
    # one number differs: refused, and nothing logged
    changed = json.loads(committed.read_text())
    changed["curve"][0]["bound"] += 1e-12
    committed.write_text(json.dumps(changed))
    assert main([*certify, "--reproduce", str(committed)]) == 2
    assert "not reproduced: row 1 (bound)" in capsys.readouterr().err
    (log,) = tmp_path.glob("log-*.json")
    assert len(json.loads(log.read_text())["registrations"]) == 1
