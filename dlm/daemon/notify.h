/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * notify.h - systemd's readiness protocol (sd_notify(3)) without libsystemd:
 * one datagram of "NAME=value" lines to the AF_UNIX socket named in
 * $NOTIFY_SOCKET (a path, or '@' for the abstract namespace).  No socket
 * named: nothing to do.  The socket is non-blocking: the event loop never
 * waits on systemd.
 *
 * sdlmd sends READY=1 once, when the node first is fenced-safe (Type=notify:
 * units ordered after sdlmd.service, pacemaker.service among them, start
 * only then), STOPPING=1 when it starts a clean stop, and STATUS= lines.
 */
#ifndef SDLM_NOTIFY_H
#define SDLM_NOTIFY_H

/* Returns 0 (sent, or no $NOTIFY_SOCKET) or -errno. */
int notify_send(const char *state);

#endif
