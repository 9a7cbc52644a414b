//go:build linux || darwin || freebsd || netbsd || openbsd

package store

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// socketDead reports whether an idle connection's socket says the server
// is gone, without a round trip: one non-blocking MSG_PEEK. A backend that
// was terminated sent its FATAL message and closed the socket, so there is
// something to read where an idle connection has nothing; any bytes, end
// of file or a socket error count as dead. It answers true when it cannot
// look (not a socket), so that the caller falls back to a ping.
func socketDead(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		// TLS records are bytes on the socket all the same.
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	dead := true
	var b [1]byte
	// Control, not Read: Read would wait for the descriptor's read lock,
	// which pgx's background reader may hold, parked, on an idle
	// connection after a slow write; the peek would then wait for bytes
	// that never come. A parked reader means the socket is empty anyway.
	err = raw.Control(func(fd uintptr) {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		dead = !errors.Is(err, syscall.EAGAIN) // bytes or end of file: err is nil
	})
	return dead || err != nil
}
