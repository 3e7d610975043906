// Package loadgen drives a running chatd the way devices do, for chatd-load and the
// end-to-end crash test: it creates an account, apps and users through the operator
// API and REST, connects paired devices over WebSocket, sends one-to-one messages at
// a fixed offered rate (open loop), measures send → receive latency, survives a
// server restart (reconnect, resync, resend of every unacknowledged message with its
// client_msg_id) and checks the users' logs afterwards.
package loadgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/usersig"
)

// PairsPerApp is how many sender/receiver pairs share one app: a Free Trial app
// admits 100 monthly active users.
const PairsPerApp = 50

// App is one app created for the load.
type App struct {
	ID  int64
	Key string
}

// Users are the load's users: user 2p sends to user 2p+1.
type Users struct {
	Server string // base URL, http:// or https://: the operator API and REST
	// Devices are the base URLs devices connect to, user i to
	// Devices[i%len(Devices)] (several nodes of a cluster); empty: Server.
	Devices []string
	Names   []string
	Apps    []App // Apps[i] holds users [2·PairsPerApp·i, 2·PairsPerApp·(i+1))
	TLS     *tls.Config
	HTTP    *http.Client
}

// App returns the app of user i (the only app when there is one).
func (u *Users) App(i int) App {
	if len(u.Apps) == 1 {
		return u.Apps[0]
	}
	return u.Apps[i/(2*PairsPerApp)]
}

// Sig returns a UserSig for user i, valid for a day.
func (u *Users) Sig(i int) string {
	a := u.App(i)
	sig, _ := usersig.Gen(a.ID, a.Key, u.Names[i], 86400, time.Now())
	return sig
}

// WebSocketURL is the device endpoint of the server.
func (u *Users) WebSocketURL() string {
	return strings.Replace(u.Server, "http", "ws", 1) + "/v1/ws"
}

// DeviceURL is the device endpoint user i connects to: round-robin over
// Devices, so that with several nodes user 2p and its peer 2p+1 are on two
// different nodes.
func (u *Users) DeviceURL(i int) string {
	if len(u.Devices) == 0 {
		return u.WebSocketURL()
	}
	return strings.Replace(u.Devices[i%len(u.Devices)], "http", "ws", 1) + "/v1/ws"
}

// Setup creates an account named name, one Free Trial app per PairsPerApp pairs and
// 2·pairs users (u000000, u000001, …) on the server at base URL server, through the
// operator API (token) and REST. client may be nil (http.DefaultClient).
func Setup(ctx context.Context, server, token, name string, pairs int, client *http.Client, tlsConf *tls.Config) (*Users, error) {
	if client == nil {
		client = http.DefaultClient
	}
	u := &Users{Server: server, TLS: tlsConf, HTTP: client}
	var acc map[string]any
	if err := u.operator(ctx, token, "/operator/v1/accounts", map[string]any{"name": name, "email": name + "@example.com"}, &acc); err != nil {
		return nil, err
	}
	u.Apps = make([]App, (pairs+PairsPerApp-1)/PairsPerApp)
	for i := range u.Apps {
		var a struct {
			SDKAppID  int64  `json:"sdkappid"`
			SecretKey string `json:"secret_key"`
		}
		if err := u.operator(ctx, token, "/operator/v1/apps", map[string]any{"account": acc["id"], "name": fmt.Sprintf("%s-%d", name, i)}, &a); err != nil {
			return nil, err
		}
		u.Apps[i] = App{a.SDKAppID, a.SecretKey}
	}
	u.Names = make([]string, 2*pairs)
	for i := range u.Names {
		u.Names[i] = fmt.Sprintf("u%06d", i)
	}
	for i := 0; i < len(u.Names); i += 2 * PairsPerApp {
		end := min(i+2*PairsPerApp, len(u.Names))
		if err := u.REST(ctx, u.App(i), "im_open_login_svc/multiaccount_import", map[string]any{"Accounts": u.Names[i:end]}); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (u *Users) operator(ctx context.Context, token, path string, body, out any) error {
	return u.operatorDo(ctx, "POST", token, path, body, out)
}

func (u *Users) operatorDo(ctx context.Context, method, token, path string, body, out any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, method, u.Server+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := u.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s %s", path, resp.Status, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// REST calls /v4/<path> as the app's administrator and fails unless ErrorCode is 0.
func (u *Users) REST(ctx context.Context, a App, path string, body any) error {
	_, err := u.rest(ctx, a, path, body)
	return err
}

// restError is a REST answer with a non-zero ErrorCode.
type restError struct {
	path string
	code float64
	v    map[string]any
}

func (e *restError) Error() string { return fmt.Sprintf("%s: %v", e.path, e.v) }

// rest calls /v4/<path> as the app's administrator and returns the answer; a
// non-zero ErrorCode is a *restError.
func (u *Users) rest(ctx context.Context, a App, path string, body any) ([]byte, error) {
	sig, _ := usersig.Gen(a.ID, a.Key, "administrator", 3600, time.Now())
	b, _ := json.Marshal(body)
	url := fmt.Sprintf("%s/v4/%s?sdkappid=%d&identifier=administrator&usersig=%s&random=%d&contenttype=json", u.Server, path, a.ID, sig, time.Now().UnixNano()%1e9)
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := u.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var v map[string]any
	_ = json.Unmarshal(raw, &v)
	if code, _ := v["ErrorCode"].(float64); v["ErrorCode"] != float64(0) {
		return nil, &restError{path, code, v}
	}
	return raw, nil
}
