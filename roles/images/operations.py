"""Images built on the host from a context the deploy renders: tagged by what goes into them.

``build`` tags an image ``<image>:c-<hash>``, the hash covering the Dockerfile, every context file,
the build args and the base image's ID. When that tag exists the image is current and nothing runs;
otherwise the context is uploaded to a fresh folder on the host and ``docker build`` runs there.
The alias (``<image>:latest`` by default) is moved onto the current image, which is what
containers and the launcher refer to.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
from pathlib import Path

from pyinfra import host
from pyinfra.api import FileUploadCommand, OperationError, QuoteString, StringCommand, operation
from pyinfra.facts.docker import DockerImage

from sandbox_host.roles.common import scripts

# Where extra CA certificates land in a build context, and in the image.
EXTRA_CA_CONTEXT_DIR = "extra-ca"
EXTRA_CA_IMAGE_DIR = "/usr/local/share/ca-certificates/sandbox-host"
EXTRA_CA_BUNDLE = "bundle.pem"
# The image label holding the full content hash, and the tag made from it (``c-`` + its first 16
# hex digits). agent-sandbox's `update` keeps both on a rebuild: it reads them from its
# config.json, which roles/launcher/config.py fills from these constants.
HASH_LABEL = "org.sandbox-host.content-hash"
CONTENT_TAG_PREFIX = "c-"
CONTENT_TAG_HEX_DIGITS = 16
# Bump when the way contexts are prepared changes (file modes, layout): every image then rebuilds.
RECIPE_VERSION = "2"
_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"


def image_id(ref: str) -> str | None:
    """The ID (sha256:...) of image ``ref`` on the host, or None when it is absent."""
    found = host.get_fact(DockerImage, object_id=ref)
    return found[0]["Id"] if found else None


_FILE_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_sha512(path: str) -> str:
    """sha512 hex of a (large) file on the deploying machine, read in chunks; kept per path, size
    and mtime, so a deploy that checks a tarball and hashes its context reads it once."""
    source = Path(path).expanduser().resolve()
    stat = source.stat()
    key = (str(source), stat.st_size, stat.st_mtime_ns)
    if key not in _FILE_DIGESTS:
        digest = hashlib.sha512()
        with source.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        _FILE_DIGESTS[key] = digest.hexdigest()
    return _FILE_DIGESTS[key]


def content_hash(
    dockerfile: str,
    files: dict[str, bytes],
    build_args: dict[str, str],
    base_id: str | None,
    local_files: dict[str, str] | None = None,
) -> str:
    """sha256 over everything that decides what ``docker build`` produces (``local_files``: by
    their sha512, so a changed file rebuilds)."""
    digest = hashlib.sha256()

    def feed(*parts: bytes | str) -> None:
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            # Length prefixes keep ("ab", "c") and ("a", "bc") apart.
            digest.update(len(data).to_bytes(8, "big") + data)

    feed("recipe", RECIPE_VERSION)
    feed("dockerfile", dockerfile)
    for path in sorted(files):
        feed("file", path, hashlib.sha256(files[path]).hexdigest())
    for path in sorted(local_files or {}):
        feed("local file", path, file_sha512(local_files[path]))
    for key in sorted(build_args):
        feed("arg", key, build_args[key])
    feed("base", base_id or "none")
    return digest.hexdigest()


def content_tag(digest: str) -> str:
    return f"{CONTENT_TAG_PREFIX}{digest[:CONTENT_TAG_HEX_DIGITS]}"


def _as_bytes(files: dict[str, bytes | str] | None) -> dict[str, bytes]:
    out = {}
    for path, content in (files or {}).items():
        normal = posixpath.normpath(path)
        if normal.startswith(("/", "..")) or normal in (".", "Dockerfile"):
            raise OperationError(f"build context path {path!r} must be relative, inside the context, not Dockerfile")
        out[normal] = content.encode() if isinstance(content, str) else bytes(content)
    return out


def extra_ca_context(paths: list[str]) -> dict[str, bytes]:
    """Context files for ``images.extra_ca_certificates`` (PEM files on the deploying machine).

    Each certificate file becomes ``extra-ca/NN-<name>.crt`` (update-ca-certificates only reads
    ``*.crt``) and all of them are concatenated in ``extra-ca/bundle.pem`` for NODE_EXTRA_CA_CERTS.
    Read now, at plan time, so a missing or non-PEM file stops the run before a host is touched.
    """
    files: dict[str, bytes] = {}
    bundle = b""
    for number, path in enumerate(paths):
        source = Path(path).expanduser()
        try:
            pem = source.read_bytes()
        except OSError as exc:
            raise OperationError(f"images.extra_ca_certificates: cannot read {path}: {exc.strerror}") from None
        if _PEM_BEGIN not in pem:
            raise OperationError(f"images.extra_ca_certificates: {path} holds no PEM certificate")
        pem = pem if pem.endswith(b"\n") else pem + b"\n"
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in source.stem)
        files[f"{EXTRA_CA_CONTEXT_DIR}/{number:02d}-{stem}.crt"] = pem
        bundle += pem
    if files:
        files[f"{EXTRA_CA_CONTEXT_DIR}/{EXTRA_CA_BUNDLE}"] = bundle
    return files


def extra_ca_dockerfile(paths: list[str]) -> str:
    """Dockerfile lines that make an image trust ``extra_ca_context(paths)``; "" when there are none.

    Put them before the first download over https. Certificates in /usr/local/share/ca-certificates
    are also picked up by a later ``apt-get install ca-certificates`` (its postinst runs
    update-ca-certificates), so the order against that install does not matter.
    """
    if not paths:
        return ""
    return "\n".join(
        [
            "# Extra CA certificates (images.extra_ca_certificates): OS trust store and Node.",
            f"COPY {EXTRA_CA_CONTEXT_DIR}/ {EXTRA_CA_IMAGE_DIR}/",
            "RUN if command -v update-ca-certificates >/dev/null; then update-ca-certificates; fi",
            f"ENV NODE_EXTRA_CA_CERTS={EXTRA_CA_IMAGE_DIR}/{EXTRA_CA_BUNDLE}",
        ]
    )


# The project's one debootstrap recipe (also used by scripts/build-base-image.sh and molecule/vm).
DEBOOTSTRAP = Path(__file__).parent / "files" / "debootstrap.sh"


@operation()
def base_image(image: str, archive: str | None = None, debootstrap: dict | None = None, proxy_env: str | None = None):
    """
    Make the base image present on the host: ``docker load`` it from ``archive`` (a ``docker save``
    tarball on the deploying machine) when given; else build it on the host from a Debian mirror
    when ``debootstrap`` ({"suite", "mirror"}) is given; else ``docker pull`` it. Present = no
    change; a present image is never refreshed (pin base images by tag or digest). The debootstrap
    downloads use the proxy of ``proxy_env`` (the build proxy file) when the host has that file.
    """
    if archive and not Path(archive).is_file():
        raise OperationError(f"images.base_image_archive: {archive} is not a file on this machine")
    if image_id(image):
        host.noop(f"base image {image} is present")
        return
    if archive:
        remote = f"/var/tmp/sandbox-host-base-{hashlib.sha256(image.encode()).hexdigest()[:12]}.tar"
        yield FileUploadCommand(archive, remote)
        yield StringCommand("docker load -i", QuoteString(remote), "&& rm -f", QuoteString(remote))
        # docker load succeeds for any archive: make sure it held the tag the deploy uses.
        yield StringCommand(
            "docker image inspect",
            QuoteString(image),
            ">/dev/null 2>&1 || { echo",
            QuoteString(f"{archive} did not contain image {image}"),
            ">&2; exit 1; }",
        )
    elif debootstrap:
        yield scripts.command(DEBOOTSTRAP, "image", image, debootstrap["suite"], debootstrap["mirror"], proxy_env or "")
    else:
        yield StringCommand("docker pull", QuoteString(image))


# Docker's predefined build args: usable in RUN without an ARG line, and then left out of the
# image's history and config (docs.docker.com "Predefined ARGs"; checked on 20.10's legacy builder
# by tests/host/test_build_proxy.py).
PROXY_HOSTS_VAR = "SANDBOX_HOST_BUILD_HOSTS"
PROXY_BUILD_ARGS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def proxy_args_declared(dockerfile: str) -> list[str]:
    """Proxy names the Dockerfile declares with ARG (which would persist their values)."""
    found = []
    for line in dockerfile.splitlines():
        words = line.strip().split(None, 1)
        if len(words) == 2 and words[0].upper() == "ARG":
            name = words[1].split("=", 1)[0].strip()
            if name in PROXY_BUILD_ARGS:
                found.append(name)
    return found


def build_command(tagged: str, digest: str, args: dict[str, str], workdir: str, proxy_env: str | None,
                  network: str | None = None) -> list:
    """`docker build` of ``workdir`` as StringCommand parts; with ``proxy_env`` it first reads
    that file and hands its proxy variables over by name (``--build-arg NAME`` without a value
    takes it from the environment): the values travel from a root-only file to dockerd, never
    through a command line or pyinfra's output."""
    # No legacy-only flags (--force-rm ...): on docker-ce hosts `docker build` is BuildKit (buildx).
    command: list = ["docker build -t", QuoteString(tagged), "--label", QuoteString(f"{HASH_LABEL}={digest}")]
    if network:
        command += ["--network", QuoteString(network)]
    for key in sorted(args):
        command += ["--build-arg", QuoteString(f"{key}={args[key]}")]
    prefix: list = []
    if proxy_env:
        # The file may also name the proxy's address (PROXY_HOSTS_VAR, "name:ip ..."): build
        # containers do not see the host's /etc/hosts, where a corporate proxy's name often is.
        prefix = ["set --; if [ -r", QuoteString(proxy_env), "]; then set -a; .", QuoteString(proxy_env),
                  f"; set +a; for h in ${{{PROXY_HOSTS_VAR}:-}}; do set -- \"$@\" --add-host \"$h\"; done; fi;"]
        for key in PROXY_BUILD_ARGS:
            command += ["--build-arg", key]
        command += ['"$@"']
    return [*prefix, *command, QuoteString(workdir)]


@operation()
def build(
    image: str,
    dockerfile: str,
    files: dict[str, bytes | str] | None = None,
    build_args: dict[str, str] | None = None,
    base_image: str | None = None,
    alias: str | None = "latest",
    build_dir: str = "/var/tmp/sandbox-host-build",
    proxy_env: str | None = None,
    local_files: dict[str, str] | None = None,
    network: str | None = None,
):
    """
    Build ``image`` from a rendered Dockerfile and context files, once per content.

    + image: image repository (no tag), e.g. ``sandbox-host-egress-proxy``
    + dockerfile: the Dockerfile's text
    + files: context files, relative path -> content (add ``extra_ca_context(...)`` here)
    + build_args: ``--build-arg`` values (part of the hash: never put secrets here)
    + base_image: the image the Dockerfile starts FROM; its ID is part of the hash, so a new base
      rebuilds. It must be present (``base_image`` operation first).
    + alias: extra tag moved onto the current image (None: none)
    + build_dir: host folder under which the context is uploaded (removed after the build)
    + proxy_env: root-only file on the host with the proxy variables (``proxy_env_file``), read
      by the build's shell and handed to ``docker build`` as Docker's predefined proxy build
      args: RUN steps see them, the image's history and config do not, and no command line does
    + local_files: context path -> file on the deploying machine, uploaded as is (large tarballs
      that are not read into memory); part of the hash by their sha512
    + network: ``docker build --network`` (``none``: the build's containers reach nothing)
    """
    declared = proxy_args_declared(dockerfile)
    if declared:
        raise OperationError(
            f"the Dockerfile of {image} declares ARG {', '.join(declared)}: a declared proxy argument is kept "
            "in the image's history (with any credentials in it); Docker passes these to RUN without ARG"
        )
    context = _as_bytes(files)
    local = {posixpath.normpath(path): source for path, source in (local_files or {}).items()}
    # The same path rules as in-memory files (relative, inside the context), and no path twice.
    clash = _as_bytes(dict.fromkeys(local, b"")).keys() & context.keys()
    if clash:
        raise OperationError(f"build context paths given twice: {', '.join(sorted(clash))}")
    args = dict(build_args or {})
    base_id = image_id(base_image) if base_image else None
    digest = content_hash(dockerfile, context, args, base_id, local)
    tagged = f"{image}:{content_tag(digest)}"
    wanted_alias = f"{image}:{alias}" if alias else None

    current = image_id(tagged)
    if current:
        if wanted_alias and image_id(wanted_alias) != current:
            yield StringCommand("docker tag", QuoteString(tagged), QuoteString(wanted_alias))
        else:
            host.noop(f"image {tagged} is current")
        return

    if base_image and not base_id:
        # Only reachable at plan time when an earlier operation of this run provides the base
        # image; if it is still missing when the build runs, say so instead of letting the
        # builder try a registry.
        yield StringCommand(
            "docker image inspect",
            QuoteString(base_image),
            ">/dev/null 2>&1 || { echo",
            QuoteString(f"base image {base_image} is missing: run images.base_image first"),
            ">&2; exit 1; }",
        )

    workdir = posixpath.join(build_dir, digest[:16])
    yield StringCommand("rm -rf", QuoteString(workdir), "&& mkdir -p -m 700", QuoteString(workdir))
    yield FileUploadCommand(io.BytesIO(dockerfile.encode()), f"{workdir}/Dockerfile")
    for directory in sorted({posixpath.dirname(path) for path in [*context, *local]} - {""}):
        yield StringCommand("mkdir -p", QuoteString(f"{workdir}/{directory}"))
    for path in sorted(context):
        yield FileUploadCommand(io.BytesIO(context[path]), f"{workdir}/{path}")
    for path in sorted(local):
        yield FileUploadCommand(str(Path(local[path]).expanduser()), f"{workdir}/{path}")
    # Uploads arrive as 0600; the image would get root-only files. Everything in the context is
    # 0644 (dirs 0755): executables get their mode in the Dockerfile (RUN chmod).
    yield StringCommand("find", QuoteString(workdir), "-mindepth 1 -exec chmod u=rwX,go=rX {} +")

    # The context folder goes whether the build worked or not; the build's status is kept.
    yield StringCommand(*build_command(tagged, digest, args, workdir, proxy_env, network),
                        "; status=$?; rm -rf", QuoteString(workdir), "; exit $status")
    if wanted_alias:
        yield StringCommand("docker tag", QuoteString(tagged), QuoteString(wanted_alias))
