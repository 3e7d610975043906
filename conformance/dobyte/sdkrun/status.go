package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/chatd/chatd/client"
	"github.com/chatd/chatd/internal/usersig"
)

// onlineStatusDetail logs alice in from an iOS device over the WebSocket edge
// and reads her state through the SDK with details: Online, one Detail item with
// the reference's platform name "iPhone"; bob stays Offline without details.
// Then alice logs out and is Offline again.
func (s *suite) onlineStatusDetail() {
	acc := s.im.Account()
	var dev *client.Client
	s.c.check("query_online_status/detail-of-a-connected-device", func() error {
		sig, err := usersig.Gen(int64(s.appID), s.key, s.alice, 3600, time.Now())
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws := "wss://" + strings.TrimPrefix(referenceURL, "https://") + "/v1/ws"
		dev, err = client.Dial(ctx, ws, client.Options{SDKAppID: int64(s.appID), User: s.alice, UserSig: sig, Platform: "iOS",
			TLSConfig: &tls.Config{InsecureSkipVerify: true}})
		if err != nil {
			return fmt.Errorf("device login: %v", err)
		}
		ret, err := acc.GetAccountsOnlineState([]string{s.alice, s.bob}, true)
		if err != nil {
			return failed("GetAccountsOnlineState", err)
		}
		for _, r := range ret.Results {
			switch r.UserId {
			case s.alice:
				if r.Status != "Online" || len(r.Detail) != 1 || r.Detail[0].Platform != "iPhone" || r.Detail[0].Status != "Online" {
					return fmt.Errorf("%s: %+v, want Online with Detail [{iPhone Online}]", s.alice, r)
				}
			case s.bob:
				if r.Status != "Offline" || len(r.Detail) != 0 {
					return fmt.Errorf("%s: %+v, want Offline without Detail", s.bob, r)
				}
			}
		}
		if len(ret.Results) != 2 {
			return fmt.Errorf("QueryResult %+v, want 2 results", ret.Results)
		}
		return nil
	})
	s.c.check("query_online_status/offline-after-logout", func() error {
		if dev == nil {
			return fmt.Errorf("no device (the previous check failed)")
		}
		dev.Close()
		<-dev.Done()
		// The server ends its side just after the client: poll briefly.
		deadline := time.Now().Add(5 * time.Second)
		for {
			st, err := acc.GetAccountOnlineState(s.alice, true)
			if err != nil {
				return failed("GetAccountOnlineState", err)
			}
			if st.Status == "Offline" && len(st.Detail) == 0 {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("after logout: %+v, want Offline (a logout is not PushOnline)", st)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
