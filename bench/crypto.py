"""OpenPGP throughput: the gateway's own code against the raw gpg command doing the same work.

    .venv/bin/python bench/crypto.py [--messages N]

Sign-and-encrypt: the gateway's `seal` (a detached signature, then encryption to the partner
and the MASH) against `gpg --detach-sign` then `gpg --encrypt`. Decrypt-and-verify: the
gateway's `unwrap` and verdict against `gpg --decrypt` then `gpg --verify`. Each with 1 and 2
workers, in the same run, on the same typical message, alternating short rounds of each;
prints the median rates and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from pgp_world import Party, encrypted_entity, entity, message, signed_entity  # noqa: E402

from gateway.config import parse_config  # noqa: E402
from gateway.crypto.keyring import Keyring  # noqa: E402
from gateway.crypto.pgp_mime import seal, unwrap  # noqa: E402
from gateway.crypto.signatures import judge  # noqa: E402

TEXT = (
    "Why we need this information: the school reports bruising to the child's upper arm and "
    "a disclosure about the father. Please tell us what you know about the household.\n"
) * 12  # about 2 KB, a typical check request or reply


ROUNDS = 7


def rate(work: Callable[[int], object], count: int, workers: int) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, range(count)))
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--messages", type=int, default=140, help="messages per measurement, over 7 rounds"
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="mash-bench-crypto-"))
    mash = Party(root, "MASH", "mash@hackney.example")
    police = Party(root, "Police", "police-mash@met.example")
    police.learn(mash.public())
    mash.learn(police.public())
    keyring = Keyring(root / "gateway", signing_key=mash.fingerprint)
    keyring.import_keys(mash.secret())
    keyring.import_keys(police.public())
    config = parse_config(
        f'[gateway]\nmash_address = "mash@hackney.example"\ngnupg_home = "{root / "gateway"}"\n'
        f'signing_key = "{mash.fingerprint}"\n[smtp]\nhost = "127.0.0.1"\ntls = "none"\n'
        f'[[agency]]\nid = "police"\ndsa_signed = 2025-01-15\nname = "P"\n'
        f'check_address = "police-mash@met.example"\n'
        f'reply_from = ["police-mash@met.example"]\nsecurity = "pgp"\n'
        f'key = "{police.fingerprint}"\n',
        "bench.toml",
    )
    outgoing = EmailMessage()
    outgoing["From"] = "mash@hackney.example"
    outgoing["To"] = "police-mash@met.example"
    outgoing["Subject"] = "[RED] MASH check MASH-2026-000001 [#K7Q2XW4P]"
    outgoing.set_content(TEXT)
    raw_out = outgoing.as_bytes()
    inner = entity(TEXT)
    reply = message(
        {"From": "police-mash@met.example", "To": "mash@hackney.example", "Subject": "RE: x"},
        encrypted_entity(
            police.encrypt(signed_entity(police, inner), [mash.fingerprint], sign=False)
        ),
    )
    # What raw gpg gets for the same work: the same inner entity and its signature.
    signed_inner = signed_entity(police, inner)
    detached = police.detach_sign(inner)
    sig_file = root / "detached.asc"
    sig_file.write_bytes(detached)
    ciphertext = police.encrypt(signed_inner, [mash.fingerprint], sign=False)

    def gpg(*argv: str, data: bytes) -> bytes:
        return subprocess.run(
            [
                "gpg",
                "--homedir",
                str(mash.home),
                "--batch",
                "--yes",
                "--trust-model",
                "always",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                *argv,
            ],
            input=data,
            capture_output=True,
            check=True,
        ).stdout

    def gateway_seal(_i: int) -> object:
        return seal(
            raw_out,
            keyring,
            encrypt_to=[police.fingerprint, mash.fingerprint],
            outer_subject="[RED] MASH check MASH-2026-000001 [#K7Q2XW4P]",
        )

    def raw_seal(_i: int) -> object:
        signature = gpg("--armor", "--detach-sign", "-u", mash.fingerprint, data=raw_out)
        return gpg(
            "--armor",
            "--encrypt",
            "-r",
            police.fingerprint,
            "-r",
            mash.fingerprint,
            data=raw_out + signature,
        )

    def gateway_open(_i: int) -> object:
        parsed = message_from_bytes(reply)
        unwrapped = unwrap(reply, keyring)
        verdict = judge(unwrapped, parsed, config, expected=police.fingerprint)
        assert verdict.status == "verified", verdict
        return verdict

    def raw_open(_i: int) -> object:
        gpg("--decrypt", data=ciphertext)
        return gpg("--verify", str(sig_file), "-", data=inner)

    print(f"{'work':24} {'workers':>7} {'gateway/s':>10} {'raw gpg/s':>10} {'ratio':>6}")
    for name, ours, theirs in (
        ("sign and encrypt", gateway_seal, raw_seal),
        ("decrypt and verify", gateway_open, raw_open),
    ):
        for workers in (1, 2):
            ours(0), theirs(0)  # warm the agents
            # Alternate short rounds and take medians: a noisy neighbour hits both sides.
            per_round = max(4, args.messages // ROUNDS)
            a_rates, b_rates = [], []
            for _round in range(ROUNDS):
                a_rates.append(rate(ours, per_round, workers))
                b_rates.append(rate(theirs, per_round, workers))
            a, b = statistics.median(a_rates), statistics.median(b_rates)
            print(f"{name:24} {workers:>7} {a:>10.1f} {b:>10.1f} {a / b:>6.2f}")
    for home in (mash.home, police.home, root / "gateway"):
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


if __name__ == "__main__":
    main()
