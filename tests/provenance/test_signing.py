import json

from synthgov.provenance.label import signed_message
from synthgov.provenance.signing import (
    SM3_WITH_SM2,
    SignatureVerdict,
    Sm2Signer,
    check_security_data,
    verify_sm2,
    verify_sm2_reference,
)

MSG = signed_message("1", "0011910000000000DEM00L10001", "abc")


def test_sign_and_verify_both_implementations():
    signer = Sm2Signer.generate()
    sig = signer.sign(MSG)
    assert verify_sm2(signer.spki, MSG, sig)
    assert verify_sm2_reference(signer.spki, MSG, sig)  # gmssl: independent implementation, default user ID
    assert not verify_sm2(signer.spki, MSG + b"x", sig)
    assert not verify_sm2_reference(signer.spki, MSG + b"x", sig)


def test_reference_verifier_handles_keys_whose_x_starts_with_byte_04():
    """gmssl's constructor lstrips "04" digits from such keys (1 in 256); one failed CI that way."""
    prefix_len = len(bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004"))
    signer = Sm2Signer.generate()
    while signer.spki[prefix_len] != 0x04:
        signer = Sm2Signer.generate()
    assert verify_sm2_reference(signer.spki, MSG, signer.sign(MSG))
    assert not verify_sm2_reference(signer.spki, MSG + b"x", signer.sign(MSG))


def test_pem_round_trip():
    signer = Sm2Signer.generate()
    again = Sm2Signer.from_pem(signer.to_pem())
    assert again.spki == signer.spki
    assert verify_sm2(signer.spki, MSG, again.sign(MSG))


def test_security_data_shape():
    signer = Sm2Signer.generate()
    sd = json.loads(signer.security_data(MSG))["SecurityData"]
    assert sd["Type"] == "TC260PG" and sd["Version"] == 1
    ds, pub = sd["PubSD"]
    assert ds["Type"] == "DS" and ds["AlgID"] == SM3_WITH_SM2
    assert bytes.fromhex(ds["Signature"])[0] == 0x30  # DER SEQUENCE
    assert pub["KeyValue"].startswith("3059301306072A8648CE3D020106082A811CCF5501822D")


def test_verdicts():
    signer, other = Sm2Signer.generate(), Sm2Signer.generate()
    sd = signer.security_data(MSG)
    assert check_security_data(sd, MSG, {signer.key_id}).verdict is SignatureVerdict.VALID
    assert check_security_data(sd, MSG, {other.key_id}).verdict is SignatureVerdict.INTEGRITY_ONLY
    tampered = signed_message("1", "0011910000000000DEM00L10001", "abd")
    assert check_security_data(sd, tampered, {signer.key_id}).verdict is SignatureVerdict.TAMPERED
    assert check_security_data("", MSG, set()).verdict is SignatureVerdict.UNSIGNED
    assert check_security_data("e862483430d978cbf828b8b24296ef9328d843a0", MSG, set()).verdict is (
        SignatureVerdict.OPAQUE
    )
    broken = sd.replace('"Signature":"3', '"Signature":"Z')
    assert check_security_data(broken, MSG, set()).verdict is SignatureVerdict.TAMPERED
