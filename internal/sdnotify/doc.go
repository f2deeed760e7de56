// Package sdnotify tells systemd about the daemon's state (sd_notify(3)):
// READY=1 once every part is up, STATUS= lines, STOPPING=1. It writes
// datagrams to the unix socket named by $NOTIFY_SOCKET and does nothing at
// all when that variable is unset, so the daemon runs the same with or
// without systemd.
package sdnotify
