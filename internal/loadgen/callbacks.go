package loadgen

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
)

// Receiver is an app backend's callback endpoint on loopback for a load run:
// it answers every callback at once with the reference's "allow" and counts
// the requests by command.
type Receiver struct {
	URL      string
	Requests atomic.Int64 // every request
	Before   atomic.Int64 // C2C.CallbackBeforeSendMsg
	After    atomic.Int64 // C2C.CallbackAfterSendMsg
	srv      *http.Server
}

var allow = []byte(`{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`)

// StartReceiver listens on 127.0.0.1 (a free port) and serves callbacks.
func StartReceiver() (*Receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Receiver{URL: "http://" + ln.Addr().String() + "/callback"}
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, 1<<20))
		r.Requests.Add(1)
		switch req.URL.Query().Get("CallbackCommand") {
		case "C2C.CallbackBeforeSendMsg":
			r.Before.Add(1)
		case "C2C.CallbackAfterSendMsg":
			r.After.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(allow)
	})}
	go r.srv.Serve(ln)
	return r, nil
}

// Close stops the receiver.
func (r *Receiver) Close() error { return r.srv.Close() }

// SetCallbacks points every app of the load at url with the given commands,
// through the operator API (the server must allow the host:
// --callback-allow-hosts 127.0.0.1).
func (u *Users) SetCallbacks(ctx context.Context, token, url string, commands []string) error {
	for _, a := range u.Apps {
		var out map[string]any
		path := fmt.Sprintf("/operator/v1/apps/%d/callback", a.ID)
		if err := u.operatorDo(ctx, "PUT", token, path, map[string]any{"url": url, "token": "load", "commands": commands}, &out); err != nil {
			return err
		}
	}
	return nil
}
