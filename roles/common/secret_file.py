"""A file whose content is a secret (proxy credentials): written like ``files.put``, but its
content never reaches pyinfra's output, not even with ``--diff`` (``files.put`` prints the old
and new lines of a text file there), and never sits world-readable on the host on its way in.
"""

from __future__ import annotations

import hashlib
import posixpath
from io import BytesIO

from pyinfra import host
from pyinfra.api import FileUploadCommand, QuoteString, StringCommand, operation
from pyinfra.facts.files import File, Sha256File


@operation()
def secret_file(dest: str, content: str, user: str = "root", group: str = "root", mode: str = "600"):
    """
    Make ``dest`` hold ``content``, owned ``user:group`` with ``mode`` (octal digits); its folder
    must exist. Compared by sha256, so nothing of the content is read back; replaced through a
    file that is 0600 before any byte lands in it, then moved into place. (Connected as a user
    with ``_sudo``, pyinfra first uploads to a temporary file of that user's, as for every upload.)
    """
    data = content.encode()
    present = host.get_fact(File, path=dest)
    same = (
        present
        and host.get_fact(Sha256File, path=dest) == hashlib.sha256(data).hexdigest()
        and str(present["mode"]) == mode.lstrip("0")
        and (present["user"], present["group"]) == (user, group)
    )
    if same:
        host.noop(f"{dest} is up to date (content not shown)")
        return
    staged = posixpath.join(posixpath.dirname(dest), f".{posixpath.basename(dest)}.sandbox-host-new")
    yield StringCommand("install -m 600 /dev/null", QuoteString(staged))
    yield FileUploadCommand(BytesIO(data), staged)
    yield StringCommand("chown", QuoteString(f"{user}:{group}"), QuoteString(staged), "&& chmod", mode,
                        QuoteString(staged), "&& mv -f", QuoteString(staged), QuoteString(dest))
