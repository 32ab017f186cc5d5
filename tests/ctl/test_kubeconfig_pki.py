from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from kwok.ctl import kubeconfig, pki


def test_merge_adds_context_keeps_others_and_remove_cleans_up(tmp_path: Path) -> None:
    path = tmp_path / "config"
    kubeconfig.write(path, {
        "apiVersion": "v1", "kind": "Config", "current-context": "other",
        "clusters": [{"name": "other", "cluster": {"server": "https://x"}}],
        "users": [{"name": "other", "user": {}}],
        "contexts": [{"name": "other", "context": {"cluster": "other", "user": "other"}}],
    })
    own = kubeconfig.cluster_kubeconfig("kwok-a", "https://127.0.0.1:1", None)
    kubeconfig.merge_context(path, own)
    merged = kubeconfig.read(path)
    assert merged["current-context"] == "kwok-a"
    assert {c["name"] for c in merged["contexts"]} == {"other", "kwok-a"}
    kubeconfig.merge_context(path, own)    # idempotent: no duplicate entries
    assert len(kubeconfig.read(path)["clusters"]) == 2
    kubeconfig.remove_context(path, "kwok-a")
    after = kubeconfig.read(path)
    assert [c["name"] for c in after["contexts"]] == ["other"]
    assert after["current-context"] == ""
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_pki_is_kwoks_layout_and_signs_other_users(tmp_path: Path) -> None:
    paths = pki.PKIPaths(tmp_path / "pki")
    pki.write_pki(paths)
    ca = x509.load_pem_x509_certificate(paths.ca_crt.read_bytes())
    admin = x509.load_pem_x509_certificate(paths.admin_crt.read_bytes())
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "kwok-ca"
    assert admin.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "kwok-admin"
    assert admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:masters"
    sans = admin.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "kubernetes.default.svc.cluster.local" in sans.get_values_for_type(x509.DNSName)
    admin.verify_directly_issued_by(ca)
    assert oct(paths.ca_key.stat().st_mode & 0o777) == "0o600"
    before = paths.ca_crt.read_bytes()
    pki.write_pki(paths)                      # a restart keeps the CA
    assert paths.ca_crt.read_bytes() == before
    cert_pem, _ = pki.client_cert_pem(paths, "alice", ("dev",))
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "alice"
    cert.verify_directly_issued_by(ca)
