package devserver

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// loopback is where the history, matching and worker services listen: they
// only talk to each other and to the frontend inside this process.
const loopback = "127.0.0.1"

// endpoint is a listen address split into the parts the server config wants.
type endpoint struct {
	host string // IP literal to bind on
	port int
}

// String is the address to bind on.
func (e endpoint) String() string {
	return net.JoinHostPort(e.host, strconv.Itoa(e.port))
}

// dialAddr is the address a client in this process dials: a wildcard bind
// address is not something to hand out, its loopback twin is.
func (e endpoint) dialAddr() string {
	host := e.host
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = loopback
		if ip.To4() == nil {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(e.port))
}

// resolveEndpoint parses a host:port listen address. Port 0 is replaced by a
// free port; any other port must be free now, so that a second dev server
// fails with a message that names the cause rather than a bind error from
// deep inside the server (or, for the UI, a process exit: see startUI).
func resolveEndpoint(what, addr string) (endpoint, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return endpoint{}, fmt.Errorf("%s address %q: %w", what, addr, err)
	}
	if host == "" || host == "localhost" {
		// The server wants an IP literal to bind on, and "localhost" may
		// resolve to ::1 where the rest of the services do not listen.
		host = loopback
	}
	if net.ParseIP(host) == nil {
		return endpoint{}, fmt.Errorf("%s address %q: host must be an IP address or localhost", what, addr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return endpoint{}, fmt.Errorf("%s address %q: invalid port", what, addr)
	}
	e := endpoint{host: host, port: port}
	if port == 0 {
		if e.port, err = freePort(host); err != nil {
			return endpoint{}, fmt.Errorf("%s address: %w", what, err)
		}
		return e, nil
	}
	if err := checkFree(e.String()); err != nil {
		return endpoint{}, err
	}
	return e, nil
}

// freePort finds a port nothing listens on at host, for a server that binds
// it a moment later. The port is released in between, so it is picked where
// nothing else in this machine picks ports on its own: below the kernel's
// ephemeral range, which every outgoing connection (this process has
// hundreds: PostgreSQL pools, gRPC clients) and every bind to port 0 draws
// from. A port from bind(0) was seen taken by such a connection before the
// server bound it. Where the range is unknown (not Linux), the kernel picks.
func freePort(host string) (int, error) {
	low, high, ok := unclaimedPortRange()
	if ok {
		for range 64 {
			port := low + rand.IntN(high-low)
			l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
			if err != nil {
				continue
			}
			_ = l.Close()
			return port, nil
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// firstPickedPort is the lowest port freePort picks: above the registered
// ports services commonly use (PostgreSQL's 5432, Temporal's 7233, 8080 …).
const firstPickedPort = 10000

// unclaimedPortRange is [low, high) between firstPickedPort and the start of
// the kernel's ephemeral port range.
func unclaimedPortRange() (low, high int, ok bool) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, false
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return 0, 0, false
	}
	ephemeralLow, err := strconv.Atoi(fields[0])
	if err != nil || ephemeralLow-firstPickedPort < 1000 {
		return 0, 0, false
	}
	return firstPickedPort, ephemeralLow, true
}

// checkFree reports whether addr can be listened on, with the friendly error
// for the common cause: a dev server already running.
func checkFree(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return inUseError(addr)
		}
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return l.Close()
}

func inUseError(addr string) error {
	return fmt.Errorf("%s is in use: is another Temporal dev server running?", addr)
}
