# Test host for the firewall role: systemd as PID 1, sshd, Docker (Debian's docker.io 20.10)
# and one firewall front end, chosen by FIREWALL (firewalld | ufw).
#
#   docker build -f tests/integration/images/firewall-testhost.Dockerfile --build-arg FIREWALL=firewalld \
#       -t sandbox-host-testhost-firewalld:bookworm tests/integration/images
#
# Built from the locally made base image (no registry is needed). busybox-static is there so the
# tests can import a tiny image into the inner Docker (client/server containers) without a registry.
ARG BASE_IMAGE=sandbox-host-base:bookworm
FROM ${BASE_IMAGE}
ARG FIREWALL=firewalld
ENV DEBIAN_FRONTEND=noninteractive container=docker
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        systemd systemd-sysv dbus openssh-server iproute2 iptables kmod procps \
        docker.io busybox-static ca-certificates ${FIREWALL} \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    # Units that cannot work in a container and only slow the boot down.
    && systemctl mask systemd-udevd.service systemd-udevd-kernel.socket systemd-udevd-control.socket \
        getty.target console-getty.service systemd-logind.service \
    && systemctl enable docker.service ssh.service \
    && if [ "${FIREWALL}" = ufw ]; then systemctl enable ufw.service; fi \
    && if [ "${FIREWALL}" = firewalld ]; then systemctl enable firewalld.service; fi
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
