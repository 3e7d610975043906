package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// chatd serve's limit flags reach the HTTP server: an idle keep-alive and a
// request whose body never arrives are closed after their timeouts.
func TestServeHTTPTimeouts(t *testing.T) {
	n := startNode(t, t.TempDir(), freeAddr(t), "--http-idle-timeout", "200ms", "--http-read-timeout", "300ms")
	closed := func(c net.Conn, what string) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.Copy(io.Discard, c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("%s: the connection is still open after 5s", what)
		}
	}

	idle, err := net.Dial("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprint(idle, "GET /healthz HTTP/1.1\r\nHost: chatd\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	closed(idle, "idle keep-alive")

	slow, err := net.Dial("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprint(slow, "POST /v4/openim/sendmsg?sdkappid=1&identifier=administrator&usersig=x&random=1&contenttype=json HTTP/1.1\r\n"+
		"Host: chatd\r\nContent-Length: 102400\r\n\r\n{")
	closed(slow, "slow body")
}
