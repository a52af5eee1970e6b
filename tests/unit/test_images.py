"""images operations: faked Docker facts in, exact commands out (pyinfra fixture style)."""

import shlex
from pathlib import Path

import pytest
from pyinfra.api import OperationError
from pyinfra.facts.docker import DockerImage

from fakehost import run_operation
from sandbox_host.roles.images import operations as ops

BASE = "sandbox-host-base:bookworm"
BASE_ID = "sha256:" + "b" * 64


def run(op, facts, **kwargs):
    return run_operation(op, facts, **kwargs)


def image(id_):
    return [{"Id": id_}]


ABSENT = []  # what DockerImage gives for an image that is not there


def images(base=BASE_ID, tagged=None, alias=None, base_id=BASE_ID):
    """DockerImage facts for BUILD: the base, the content tag, the alias (each None: absent)."""
    return {(DockerImage, BASE): image(base) if base else ABSENT,
            (DockerImage, tag_for(base_id=base_id)): image(tagged) if tagged else ABSENT,
            (DockerImage, "sbx-proxy:latest"): image(alias) if alias else ABSENT}


BUILD = dict(image="sbx-proxy", dockerfile=f"FROM {BASE}\nCOPY a.conf /a.conf\n", files={"a.conf": "x=1\n"}, base_image=BASE)


def tag_for(**overrides):
    spec = {**BUILD, **overrides}
    files = {k: v.encode() for k, v in spec["files"].items()}
    return "sbx-proxy:" + ops.content_tag(ops.content_hash(spec["dockerfile"], files, {}, overrides.get("base_id", BASE_ID)))


def test_build_when_missing_uploads_context_builds_and_tags_alias():
    commands, _ = run(ops.build, images(), **BUILD)
    tagged = tag_for()
    workdir = f"/var/tmp/sandbox-host-build/{tagged.split(':c-')[1]}"
    assert commands[0] == f"rm -rf {workdir} && mkdir -p -m 700 {workdir}"
    assert commands[1] == ("upload", BUILD["dockerfile"].encode(), f"{workdir}/Dockerfile")
    assert commands[2] == ("upload", b"x=1\n", f"{workdir}/a.conf")
    assert commands[3] == f"find {workdir} -mindepth 1 -exec chmod u=rwX,go=rX {{}} +"
    assert commands[4].startswith(f"docker build -t {tagged} --label org.sandbox-host.content-hash=")
    assert commands[4].endswith(f"{workdir} ; status=$?; rm -rf {workdir} ; exit $status")
    assert commands[5] == f"docker tag {tagged} sbx-proxy:latest"


def test_present_tag_and_alias_is_no_change():
    tagged = tag_for()
    commands, noops = run(ops.build, images(tagged="sha256:1", alias="sha256:1"), **BUILD)
    assert commands == []
    assert noops == [f"image {tagged} is current"]


def test_alias_pointing_elsewhere_is_only_retagged():
    tagged = tag_for()
    commands, _ = run(ops.build, images(tagged="sha256:1", alias="sha256:0"), **BUILD)
    assert commands == [f"docker tag {tagged} sbx-proxy:latest"]


@pytest.mark.parametrize(
    "change",
    [
        {"dockerfile": BUILD["dockerfile"] + "RUN true\n"},
        {"files": {"a.conf": "x=2\n"}},
        {"files": {"a.conf": "x=1\n", "b.conf": ""}},
        {"base_id": "sha256:" + "c" * 64},
    ],
    ids=["dockerfile", "file content", "extra file", "base image"],
)
def test_anything_that_goes_in_changes_the_tag(change):
    assert tag_for(**change) != tag_for()


def test_build_args_change_the_hash():
    assert ops.content_hash("x", {}, {"A": "1"}, None) != ops.content_hash("x", {}, {"A": "2"}, None)


def test_missing_base_image_fails_before_building():
    commands, _ = run(ops.build, images(base=None, base_id=None), **BUILD)
    assert commands[0] == (
        f"docker image inspect {BASE} >/dev/null 2>&1 || {{ echo "
        f"'base image {BASE} is missing: run images.base_image first' >&2; exit 1; }}"
    )
    assert any(isinstance(c, str) and c.startswith("docker build") for c in commands)


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "Dockerfile", "a/../../x"])
def test_context_paths_must_stay_inside(path):
    with pytest.raises(OperationError, match="must be relative"):
        run(ops.build, images(), **{**BUILD, "files": {path: "x"}})


def test_base_image_present_is_no_change():
    commands, noops = run(ops.base_image, {(DockerImage, BASE): image(BASE_ID)}, image=BASE)
    assert commands == [] and noops == [f"base image {BASE} is present"]


def test_base_image_missing_is_pulled():
    commands, _ = run(ops.base_image, {(DockerImage, "debian:bookworm-slim"): ABSENT}, image="debian:bookworm-slim")
    assert commands == ["docker pull debian:bookworm-slim"]


def test_base_image_missing_is_loaded_from_archive(tmp_path):
    archive = tmp_path / "base.tar"
    archive.write_bytes(b"tar")
    commands, _ = run(ops.base_image, {(DockerImage, BASE): ABSENT}, image=BASE, archive=str(archive))
    upload = commands[0]
    assert upload[0] == "upload" and upload[1] == str(archive)
    assert commands[1] == f"docker load -i {upload[2]} && rm -f {upload[2]}"
    assert commands[2].startswith(f"docker image inspect {BASE} >/dev/null 2>&1 || {{ echo '{archive} did not contain")


def test_base_image_missing_is_bootstrapped_on_the_host():
    source = {"suite": "bookworm", "mirror": "http://deb.debian.org/debian"}
    commands, _ = run(ops.base_image, {(DockerImage, BASE): ABSENT}, image=BASE, debootstrap=source)
    script = Path(ops.__file__).parent / "files" / "debootstrap.sh"
    assert commands == [shlex.join(
        ["sh", "-c", script.read_text(), "debootstrap.sh", "image", BASE, "bookworm", "http://deb.debian.org/debian", ""]
    )]


def test_base_image_bootstrap_is_handed_the_build_proxy_file():
    source = {"suite": "bookworm", "mirror": "http://deb.debian.org/debian"}
    commands, _ = run(ops.base_image, {(DockerImage, BASE): ABSENT}, image=BASE, debootstrap=source,
                      proxy_env="/etc/sandbox-host/build-proxy.env")
    assert commands[0].endswith(" image " + BASE + " bookworm http://deb.debian.org/debian /etc/sandbox-host/build-proxy.env")


def test_base_image_archive_must_exist(tmp_path):
    with pytest.raises(OperationError, match="is not a file"):
        run(ops.base_image, {(DockerImage, BASE): ABSENT}, image=BASE, archive=str(tmp_path / "nope.tar"))


def test_extra_ca_files_and_dockerfile_lines(tmp_path):
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    (tmp_path / "corp root.pem").write_text(pem)
    (tmp_path / "second.crt").write_text(pem + "\n")
    paths = [str(tmp_path / "corp root.pem"), str(tmp_path / "second.crt")]
    files = ops.extra_ca_context(paths)
    assert sorted(files) == ["extra-ca/00-corp_root.crt", "extra-ca/01-second.crt", "extra-ca/bundle.pem"]
    assert files["extra-ca/bundle.pem"] == (pem + "\n").encode() * 2
    lines = ops.extra_ca_dockerfile(paths)
    assert "COPY extra-ca/ /usr/local/share/ca-certificates/sandbox-host/" in lines
    assert "ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/sandbox-host/bundle.pem" in lines
    assert ops.extra_ca_dockerfile([]) == "" and ops.extra_ca_context([]) == {}


def test_extra_ca_rejects_missing_and_non_pem(tmp_path):
    (tmp_path / "key.txt").write_text("not a certificate")
    with pytest.raises(OperationError, match="holds no PEM certificate"):
        ops.extra_ca_context([str(tmp_path / "key.txt")])
    with pytest.raises(OperationError, match="cannot read"):
        ops.extra_ca_context([str(tmp_path / "absent.pem")])


def test_local_files_are_uploaded_from_disk_hashed_and_built_without_network(tmp_path):
    tarball = tmp_path / "big.tgz"
    tarball.write_bytes(b"tarball v1")
    spec = {**BUILD, "local_files": {"tarballs/big.tgz": str(tarball)}, "network": "none"}
    digest = ops.content_hash(BUILD["dockerfile"], {"a.conf": b"x=1\n"}, {}, BASE_ID, {"tarballs/big.tgz": str(tarball)})
    tagged = "sbx-proxy:" + ops.content_tag(digest)
    workdir = f"/var/tmp/sandbox-host-build/{digest[:16]}"
    facts = {**images(), (DockerImage, tagged): ABSENT}
    commands, _ = run(ops.build, facts, **spec)
    assert f"mkdir -p {workdir}/tarballs" in commands
    # Streamed from the file (its path, not its bytes in memory).
    assert ("upload", str(tarball), f"{workdir}/tarballs/big.tgz") in commands
    build = next(c for c in commands if isinstance(c, str) and c.startswith("docker build"))
    assert build.startswith(f"docker build -t {tagged} --label org.sandbox-host.content-hash={digest} --network none ")


def test_a_changed_local_file_changes_the_tag_an_unchanged_one_does_not(tmp_path):
    tarball = tmp_path / "big.tgz"
    tarball.write_bytes(b"tarball v1")

    def digest():
        return ops.content_hash("x", {}, {}, None, {"tarballs/big.tgz": str(tarball)})

    first = digest()
    assert digest() == first
    assert ops.file_sha512(str(tarball)) == (
        "b997622ab048669e3ad5e9db35daab9d0126722a519d2ef7a2b85b1bdfc3791d"
        "aeae7b2e76a4c27e16c7a0f0a2b95df049c9e229038c4b6a28772fb444d34b92")  # sha512sum of "tarball v1"
    tarball.write_bytes(b"tarball v2, a different size")
    assert digest() != first


def test_local_file_paths_must_stay_inside_and_not_clash(tmp_path):
    with pytest.raises(OperationError, match="must be relative"):
        run(ops.build, images(), **{**BUILD, "local_files": {"../x.tgz": str(tmp_path)}})
    with pytest.raises(OperationError, match="given twice: a.conf"):
        run(ops.build, images(), **{**BUILD, "local_files": {"a.conf": str(tmp_path)}})
