package devserver

import (
	"log/slog"
	"net"
	"strings"
	"testing"
)

// A listener the server cannot bind is the server's Fatal, after which it
// would serve on a nil listener and crash the process (seen in CI, when a
// port picked free was taken before the server bound it). buildServer must
// turn it into an error instead.
func TestBuildServerReportsAPortItCannotBind(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	store, err := openSQLite("")
	if err != nil {
		t.Fatal(err)
	}
	frontend := endpoint{host: loopback, port: taken.Addr().(*net.TCPAddr).Port}

	ts, err := buildServer(frontend, store, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatalf("built a server on a taken frontend port (%v)", ts)
	}
	if !strings.Contains(err.Error(), "gRPC listener") || !strings.Contains(err.Error(), frontend.String()) {
		t.Errorf("error does not say which listener failed: %v", err)
	}
}

func TestFreePortAvoidsTheEphemeralRange(t *testing.T) {
	low, high, ok := unclaimedPortRange()
	if !ok {
		t.Skip("no ephemeral port range to avoid on this system")
	}
	for range 20 {
		port, err := freePort(loopback)
		if err != nil {
			t.Fatal(err)
		}
		if port < low || port >= high {
			t.Fatalf("port %d outside [%d, %d)", port, low, high)
		}
	}
}
