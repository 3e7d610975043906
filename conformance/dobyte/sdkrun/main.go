// Command sdkrun drives a Tencent-Cloud-Chat-compatible REST server with the public,
// unmodified Go SDK github.com/dobyte/tencent-im v0.1.1 and checks what the SDK hands
// back to its caller.
//
// The SDK always talks to https://console.tim.qq.com (a constant) and does not verify
// certificates, so sdkrun is meant to run where that name resolves to the server under
// test: conformance/dobyte runs it inside a network namespace whose /etc/hosts maps the
// reference hosts to 127.0.0.1, with chatd serving TLS on 127.0.0.1:443.
//
//	sdkrun -sdkappid N -key SECRET [-admin administrator] [-wait 30s]
//	sdkrun wait [-timeout 30s]      wait until https://console.tim.qq.com/healthz answers
//
// sdkrun prints one line per check, "PASS name", "FAIL name: reason" or "SKIP name:
// reason" (the server answered 60009: it lacks the command), and exits 1 if any check
// failed (2 on bad usage or when the server never became reachable).
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	im "github.com/dobyte/tencent-im"
	"github.com/dobyte/tencent-im/account"
	"github.com/dobyte/tencent-im/private"
	"github.com/dobyte/tencent-im/profile"
)

// referenceURL is where the SDK sends every request (its constant defaultBaseUrl).
const referenceURL = "https://console.tim.qq.com"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "wait" {
		os.Exit(waitCmd(os.Args[2:]))
	}
	os.Exit(run(os.Args[1:]))
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// insecureClient talks to the reference host, which serves a self-signed certificate in
// the test (the SDK itself does not verify certificates either).
func insecureClient() *http.Client {
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, Proxy: nil},
	}
}

// waitHealthy polls GET <referenceURL>/healthz until it answers 200.
func waitHealthy(d time.Duration) error {
	c := insecureClient()
	deadline := time.Now().Add(d)
	for {
		resp, err := c.Get(referenceURL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /healthz: %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitCmd waits until the server answers GET /healthz at the reference host.
func waitCmd(args []string) int {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := waitHealthy(*timeout); err != nil {
		fmt.Fprintf(os.Stderr, "sdkrun wait: %s is not reachable: %v\n", referenceURL, err)
		return 1
	}
	return 0
}

// checker runs named checks and reports each on one line.
type checker struct {
	failed, skipped int
}

// check runs fn; an error or a panic (the SDK's getters panic on unexpected types)
// fails the check.
func (c *checker) check(name string, fn func() error) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			c.failed++
			fmt.Printf("FAIL %s: panic: %v\n", name, p)
			ok = false
		}
	}()
	if err := fn(); err != nil {
		var sk skipError
		if errors.As(err, &sk) {
			c.skipped++
			fmt.Printf("SKIP %s: %s\n", name, oneLine(sk.reason))
			return false
		}
		c.failed++
		fmt.Printf("FAIL %s: %s\n", name, oneLine(err.Error()))
		return false
	}
	fmt.Printf("PASS %s\n", name)
	return true
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// describe renders an SDK error with its reference error code.
func describe(err error) string {
	var e im.Error
	if errors.As(err, &e) {
		return fmt.Sprintf("error %d %q", e.Code(), e.Message())
	}
	return fmt.Sprintf("error %q (no reference code: transport or decoding failure)", err.Error())
}

// codeOf returns the reference error code the SDK reported, or -1.
func codeOf(err error) int {
	var e im.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return -1
}

// failed wraps an unexpected SDK error.
func failed(call string, err error) error { return fmt.Errorf("%s: %s", call, describe(err)) }

// wantCode checks that err carries one of the codes.
func wantCode(call string, err error, codes ...int) error {
	if err == nil {
		return fmt.Errorf("%s succeeded; want error %v", call, codes)
	}
	got := codeOf(err)
	for _, c := range codes {
		if got == c {
			return nil
		}
	}
	return fmt.Errorf("%s: got %s; want error code %v", call, describe(err), codes)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomUint32() uint32 {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	return v | 1 // never 0: 0 means "not given"
}

func text(s string) *private.MsgTextContent { return &private.MsgTextContent{Text: s} }

// bodyText returns the text of a one-element TIMTextElem body, or a description of it.
func bodyText(m *private.MessageItem) (string, error) {
	if len(m.MsgBody) != 1 {
		return "", fmt.Errorf("MsgBody has %d elements, want 1", len(m.MsgBody))
	}
	el := m.MsgBody[0]
	if el.MsgType != "TIMTextElem" {
		return "", fmt.Errorf("MsgType %q, want TIMTextElem", el.MsgType)
	}
	content, ok := el.MsgContent.(map[string]any)
	if !ok {
		return "", fmt.Errorf("MsgContent is %T, want an object", el.MsgContent)
	}
	t, ok := content["Text"].(string)
	if !ok {
		return "", fmt.Errorf("MsgContent.Text is %T, want a string", content["Text"])
	}
	return t, nil
}

func keysOf(list []*private.MessageItem) []string {
	out := make([]string, 0, len(list))
	for _, m := range list {
		out = append(out, m.MsgKey)
	}
	return out
}

func findKey(list []*private.MessageItem, key string) (int, *private.MessageItem) {
	for i, m := range list {
		if m.MsgKey == key {
			return i, m
		}
	}
	return -1, nil
}

// sent is what sendmsg told us about a message we sent.
type sent struct {
	from, to, text, custom string
	random                 uint32
	key                    string
	time                   int
}

// matches checks a history item against what was sent.
func (s sent) matches(m *private.MessageItem) error {
	var probs []string
	if m.FromUserId != s.from || m.ToUserId != s.to {
		probs = append(probs, fmt.Sprintf("From/To %s→%s, want %s→%s", m.FromUserId, m.ToUserId, s.from, s.to))
	}
	if t, err := bodyText(m); err != nil {
		probs = append(probs, err.Error())
	} else if t != s.text {
		probs = append(probs, fmt.Sprintf("text %q, want %q", t, s.text))
	}
	if uint32(m.MsgRandom) != s.random {
		probs = append(probs, fmt.Sprintf("MsgRandom %d, want %d", m.MsgRandom, s.random))
	}
	if s.time != 0 && m.MsgTimeStamp != int64(s.time) {
		probs = append(probs, fmt.Sprintf("MsgTimeStamp %d, want MsgTime %d from sendmsg", m.MsgTimeStamp, s.time))
	}
	if m.MsgFlagBits != 0 {
		probs = append(probs, fmt.Sprintf("MsgFlagBits %d, want 0 (normal message)", m.MsgFlagBits))
	}
	if m.CloudCustomData != s.custom {
		probs = append(probs, fmt.Sprintf("CloudCustomData %q, want %q", m.CloudCustomData, s.custom))
	}
	if len(probs) > 0 {
		return fmt.Errorf("message %s: %s", s.key, strings.Join(probs, "; "))
	}
	return nil
}

// sameJSON compares a profile value read back with the value that was set.
func sameJSON(got, want any) bool {
	g, err1 := json.Marshal(got)
	w, err2 := json.Marshal(want)
	return err1 == nil && err2 == nil && bytes.Equal(g, w)
}

func run(args []string) int {
	fs := flag.NewFlagSet("sdkrun", flag.ContinueOnError)
	appID := fs.Int("sdkappid", 0, "SDKAppID (env SDKRUN_SDKAPPID)")
	key := fs.String("key", envOr("SDKRUN_SECRET_KEY", ""), "the app's secret key (env SDKRUN_SECRET_KEY)")
	admin := fs.String("admin", envOr("SDKRUN_ADMIN", "administrator"), "the app's admin identity (env SDKRUN_ADMIN)")
	prefix := fs.String("prefix", "", "prefix of the user ids this run creates (default: random)")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the server to answer /healthz")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *appID == 0 {
		if v, err := strconv.Atoi(os.Getenv("SDKRUN_SDKAPPID")); err == nil {
			*appID = v
		}
	}
	if *appID == 0 || *key == "" {
		fmt.Fprintln(os.Stderr, "sdkrun: -sdkappid and -key (or SDKRUN_SDKAPPID and SDKRUN_SECRET_KEY) are required")
		return 2
	}
	if *prefix == "" {
		*prefix = "dc" + randomHex(3)
	}
	if err := waitHealthy(*wait); err != nil {
		fmt.Fprintf(os.Stderr, "sdkrun: %s is not reachable: %v\n", referenceURL, err)
		return 2
	}

	c := &checker{}
	s := &suite{
		c:     c,
		appID: *appID,
		key:   *key,
		admin: *admin,
		im:    im.NewIM(&im.Options{AppId: *appID, AppSecret: *key, UserId: *admin}),
		alice: *prefix + "-alice",
		bob:   *prefix + "-bob",
		carol: *prefix + "-carol",
		dave:  *prefix + "-dave",
		ghost: *prefix + "-ghost", // never imported
	}
	s.run()
	if c.failed > 0 {
		fmt.Printf("%d check(s) failed\n", c.failed)
		return 1
	}
	return 0
}

type suite struct {
	c                              *checker
	appID                          int
	key, admin                     string
	im                             im.IM
	alice, bob, carol, dave, ghost string
}

func (s *suite) history(from, to string, maxCnt int) (*private.FetchMessagesRet, error) {
	now := time.Now().Unix()
	return s.im.Private().FetchMessages(&private.FetchMessagesArg{
		FromUserId: from, ToUserId: to, MaxLimited: maxCnt, MinTime: now - 3600, MaxTime: now + 60,
	})
}

func (s *suite) run() {
	c := s.c
	acc := s.im.Account()
	priv := s.im.Private()
	prof := s.im.Profile()

	// --- authentication: the SDK signs its own admin UserSig from the app key -------
	c.check("usersig/wrong-key-rejected", func() error {
		bad := im.NewIM(&im.Options{AppId: s.appID, AppSecret: s.key + "x", UserId: s.admin})
		_, err := bad.Account().CheckAccounts(s.alice)
		return wantCode("account_check signed with another key", err, 70003, 70009)
	})

	// --- accounts ------------------------------------------------------------------
	const faceURL = "https://example.com/alice.png"
	c.check("account_import", func() error {
		if err := acc.ImportAccount(&account.Account{UserId: s.alice, Nickname: "Alice", FaceUrl: faceURL}); err != nil {
			return failed("ImportAccount", err)
		}
		return nil
	})
	c.check("multiaccount_import", func() error {
		fails, err := acc.ImportAccounts(s.bob, s.carol, s.dave)
		if err != nil {
			return failed("ImportAccounts", err)
		}
		if len(fails) != 0 {
			return fmt.Errorf("FailAccounts = %v, want none", fails)
		}
		return nil
	})
	c.check("usersig/non-admin-identifier-rejected", func() error {
		user := im.NewIM(&im.Options{AppId: s.appID, AppSecret: s.key, UserId: s.alice})
		_, err := user.Account().CheckAccounts(s.alice)
		return wantCode("account_check with a non-admin identifier", err, 60010, 70403)
	})
	c.check("account_check", func() error {
		res, err := acc.CheckAccounts(s.alice, s.bob, s.carol, s.dave, s.ghost)
		if err != nil {
			return failed("CheckAccounts", err)
		}
		want := map[string]account.ImportedStatusType{
			s.alice: account.ImportedStatusYes, s.bob: account.ImportedStatusYes,
			s.carol: account.ImportedStatusYes, s.dave: account.ImportedStatusYes,
			s.ghost: account.ImportedStatusNo,
		}
		got := map[string]*account.CheckResult{}
		for _, r := range res {
			got[r.UserId] = r
		}
		var probs []string
		for u, st := range want {
			r, ok := got[u]
			switch {
			case !ok:
				probs = append(probs, u+": missing from ResultItem")
			case r.ResultCode != 0:
				probs = append(probs, fmt.Sprintf("%s: ResultCode %d %q", u, r.ResultCode, r.ResultInfo))
			case r.Status != st:
				probs = append(probs, fmt.Sprintf("%s: AccountStatus %q, want %q", u, r.Status, st))
			}
		}
		if len(res) != len(want) {
			probs = append(probs, fmt.Sprintf("%d items in ResultItem, want %d", len(res), len(want)))
		}
		if len(probs) > 0 {
			return errors.New(strings.Join(probs, "; "))
		}
		if ok, err := acc.CheckAccount(s.alice); err != nil || !ok {
			return fmt.Errorf("CheckAccount(%s) = %v, %v; want true", s.alice, ok, err)
		}
		return nil
	})
	c.check("query_online_status", func() error {
		ret, err := acc.GetAccountsOnlineState([]string{s.alice, s.bob}, true)
		if err != nil {
			return failed("GetAccountsOnlineState", err)
		}
		for _, u := range []string{s.alice, s.bob} {
			found := false
			for _, r := range ret.Results {
				if r.UserId == u {
					found = true
					if r.Status != "Offline" {
						return fmt.Errorf("%s: Status %q, want Offline (no device is connected)", u, r.Status)
					}
				}
			}
			if !found {
				return fmt.Errorf("%s missing from QueryResult %+v", u, ret.Results)
			}
		}
		if len(ret.Errors) != 0 {
			return fmt.Errorf("ErrorList = %+v, want empty", ret.Errors)
		}
		return nil
	})
	c.check("query_online_status/unknown-account-in-ErrorList", func() error {
		ret, err := acc.GetAccountsOnlineState([]string{s.alice, s.ghost})
		if err != nil {
			return failed("GetAccountsOnlineState", err)
		}
		for _, e := range ret.Errors {
			if e.UserId == s.ghost {
				if e.ErrorCode != 70107 {
					return fmt.Errorf("ErrorList entry for %s has ErrorCode %d, want 70107", s.ghost, e.ErrorCode)
				}
				return nil
			}
		}
		return fmt.Errorf("never-imported %s not in ErrorList (got QueryResult %+v, ErrorList %+v); want ErrorList [{To_Account:%s ErrorCode:70107}]",
			s.ghost, ret.Results, ret.Errors, s.ghost)
	})
	s.onlineStatusDetail()
	c.check("kick", func() error {
		if err := acc.KickAccount(s.alice); err != nil {
			return failed("KickAccount", err)
		}
		st, err := acc.GetAccountOnlineState(s.alice)
		if err != nil {
			return failed("GetAccountOnlineState after kick", err)
		}
		if st == nil || st.Status != "Offline" {
			return fmt.Errorf("after kick, online state %+v; want Offline", st)
		}
		return nil
	})

	// --- one-to-one messages ---------------------------------------------------------
	// m2 (bob→alice) goes first so that no later send by bob could touch bob's unread count.
	m2 := sent{from: s.bob, to: s.alice, text: "reply from bob " + randomHex(4), random: randomUint32()}
	m1 := sent{from: s.alice, to: s.bob, text: "hello from alice " + randomHex(4), custom: "cc-" + randomHex(4), random: randomUint32()}
	m3 := sent{from: s.alice, to: s.bob, text: "imported " + randomHex(4), random: randomUint32(), time: int(time.Now().Unix() - 600)}
	m4 := sent{from: s.carol, text: "broadcast from carol " + randomHex(4), random: randomUint32()}

	send := func(m *sent) error {
		msg := private.NewMessage()
		msg.SetSender(m.from)
		msg.SetReceivers(m.to)
		msg.SetRandom(m.random)
		msg.SetContent(text(m.text))
		if m.custom != "" {
			msg.SetCustomData(m.custom)
		}
		start := time.Now().Unix()
		ret, err := priv.SendMessage(msg)
		if err != nil {
			return failed("SendMessage", err)
		}
		m.key, m.time = ret.MsgKey, ret.MsgTime
		parts := strings.Split(ret.MsgKey, "_")
		if len(parts) != 3 {
			return fmt.Errorf("MsgKey %q is not <MsgSeq>_<MsgRandom>_<MsgTime>", ret.MsgKey)
		}
		if parts[1] != strconv.FormatUint(uint64(m.random), 10) {
			return fmt.Errorf("MsgKey %q does not carry MsgRandom %d", ret.MsgKey, m.random)
		}
		if parts[2] != strconv.Itoa(ret.MsgTime) {
			return fmt.Errorf("MsgKey %q does not carry MsgTime %d", ret.MsgKey, ret.MsgTime)
		}
		if int64(ret.MsgTime) < start-60 || int64(ret.MsgTime) > time.Now().Unix()+60 {
			return fmt.Errorf("MsgTime %d is not the current time (%d)", ret.MsgTime, start)
		}
		return nil
	}
	c.check("sendmsg", func() error {
		if err := send(&m2); err != nil {
			return err
		}
		return send(&m1)
	})
	c.check("sendmsg/retry-same-MsgRandom-returns-same-MsgKey", func() error {
		if m1.key == "" {
			return errors.New("sendmsg failed; nothing to retry")
		}
		again := m1
		if err := send(&again); err != nil {
			return err
		}
		if again.key != m1.key {
			return fmt.Errorf("retry returned MsgKey %q, first send %q (chatd: a non-zero MsgRandom makes sendmsg idempotent)", again.key, m1.key)
		}
		return nil
	})
	c.check("sendmsg/unknown-receiver", func() error {
		msg := private.NewMessage()
		msg.SetSender(s.alice)
		msg.SetReceivers(s.ghost)
		msg.SetContent(text("to nobody"))
		_, err := priv.SendMessage(msg)
		return wantCode("SendMessage to a never-imported account", err, 90012)
	})
	importMsg := func() error {
		msg := private.NewMessage()
		msg.SetSender(m3.from)
		msg.SetReceivers(m3.to)
		msg.SetRandom(m3.random)
		msg.SetSerialNo(4242)
		msg.SetTimestamp(int64(m3.time))
		msg.SetSyncOtherMachine(2) // SyncFromOldSystem=2: historical, not counted as unread
		msg.SetContent(text(m3.text))
		if err := priv.ImportMessage(msg); err != nil {
			return failed("ImportMessage", err)
		}
		return nil
	}
	c.check("importmsg", importMsg)
	c.check("importmsg/reimport-accepted", importMsg) // deduplicated; checked in the history below
	c.check("batchsendmsg", func() error {
		msg := private.NewMessage()
		msg.SetSender(m4.from)
		msg.SetReceivers(s.alice, s.bob, s.ghost)
		msg.SetRandom(m4.random)
		msg.SetContent(text(m4.text))
		ret, err := priv.SendMessages(msg)
		if err != nil {
			return failed("SendMessages", err)
		}
		m4.key = ret.MsgKey
		if ret.MsgKey == "" {
			return errors.New("MsgKey is empty")
		}
		var ghostErr *private.SendMessageError
		for i, e := range ret.Errors {
			switch e.UserId {
			case s.ghost:
				ghostErr = &ret.Errors[i]
			case s.alice, s.bob:
				return fmt.Errorf("imported receiver %s in ErrorList with code %d", e.UserId, e.ErrorCode)
			}
		}
		if ghostErr == nil {
			return fmt.Errorf("never-imported %s not in ErrorList %+v", s.ghost, ret.Errors)
		}
		if ghostErr.ErrorCode == 0 {
			return fmt.Errorf("ErrorList entry for %s has ErrorCode 0", s.ghost)
		}
		return nil
	})

	// --- history ----------------------------------------------------------------------
	var hist *private.FetchMessagesRet
	c.check("admin_getroammsg", func() error {
		var err error
		hist, err = s.history(s.alice, s.bob, 20)
		if err != nil {
			return failed("FetchMessages", err)
		}
		if hist.Count != len(hist.List) {
			return fmt.Errorf("MsgCnt %d but %d messages in MsgList", hist.Count, len(hist.List))
		}
		if hist.HasMore {
			return fmt.Errorf("Complete != 1 for %d messages with MaxCnt 20", len(hist.List))
		}
		return nil
	})
	inHist := func(m sent) func() error {
		return func() error {
			if hist == nil {
				return errors.New("no history fetched")
			}
			if m.key == "" {
				return errors.New("the message was not sent")
			}
			_, item := findKey(hist.List, m.key)
			if item == nil {
				return fmt.Errorf("MsgKey %s not in history %v", m.key, keysOf(hist.List))
			}
			return m.matches(item)
		}
	}
	c.check("admin_getroammsg/sent-message", inHist(m1))
	c.check("admin_getroammsg/reply", inHist(m2))
	c.check("admin_getroammsg/imported-message", func() error {
		if hist == nil {
			return errors.New("no history fetched")
		}
		var found []*private.MessageItem
		for _, it := range hist.List {
			if t, err := bodyText(it); err == nil && t == m3.text {
				found = append(found, it)
			}
		}
		if len(found) == 0 {
			return fmt.Errorf("imported message %q not in history %v", m3.text, keysOf(hist.List))
		}
		if len(found) > 1 {
			return fmt.Errorf("imported message appears %d times; importmsg must deduplicate on From/To/MsgSeq/MsgRandom/MsgTimeStamp", len(found))
		}
		m := m3
		m.key = found[0].MsgKey
		return m.matches(found[0])
	})
	c.check("admin_getroammsg/no-duplicate-from-retry", func() error {
		if hist == nil {
			return errors.New("no history fetched")
		}
		n := 0
		for _, it := range hist.List {
			if t, err := bodyText(it); err == nil && t == m1.text {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("message sent twice with the same MsgRandom appears %d times, want 1", n)
		}
		if len(hist.List) != 3 {
			return fmt.Errorf("%d messages in the conversation, want 3 (sendmsg, reply, import)", len(hist.List))
		}
		return nil
	})
	c.check("admin_getroammsg/newest-first", func() error {
		if hist == nil {
			return errors.New("no history fetched")
		}
		for i := 1; i < len(hist.List); i++ {
			if hist.List[i].MsgTimeStamp > hist.List[i-1].MsgTimeStamp {
				return fmt.Errorf("MsgList not newest first: %v", keysOf(hist.List))
			}
		}
		i1, _ := findKey(hist.List, m1.key)
		i2, _ := findKey(hist.List, m2.key)
		if i1 < 0 || i2 < 0 || i1 > i2 {
			return fmt.Errorf("the later message %s should come before %s: %v", m1.key, m2.key, keysOf(hist.List))
		}
		return nil
	})
	c.check("admin_getroammsg/either-direction", func() error {
		if hist == nil {
			return errors.New("no history fetched")
		}
		rev, err := s.history(s.bob, s.alice, 20)
		if err != nil {
			return failed("FetchMessages(bob, alice)", err)
		}
		a, b := keysOf(hist.List), keysOf(rev.List)
		if strings.Join(a, ",") != strings.Join(b, ",") {
			return fmt.Errorf("From=alice,To=bob gives %v but From=bob,To=alice gives %v", a, b)
		}
		return nil
	})
	c.check("admin_getroammsg/paging", func() error {
		if hist == nil {
			return errors.New("no history fetched")
		}
		now := time.Now().Unix()
		var keys []string
		pages := 0
		firstHasMore := false
		err := priv.PullMessages(&private.PullMessagesArg{
			FromUserId: s.alice, ToUserId: s.bob, MaxLimited: 1, MinTime: now - 3600, MaxTime: now + 60,
		}, func(ret *private.FetchMessagesRet) {
			pages++
			if pages == 1 {
				firstHasMore = ret.HasMore
			}
			if pages > 10 {
				panic(fmt.Sprintf("more than 10 pages of MaxCnt 1 for 3 messages (keys so far %v)", keys))
			}
			keys = append(keys, keysOf(ret.List)...)
		})
		if err != nil {
			return failed("PullMessages", err)
		}
		if !firstHasMore {
			return errors.New("first page of MaxCnt 1 has Complete=1; want 0 (more to pull)")
		}
		if want := keysOf(hist.List); strings.Join(keys, ",") != strings.Join(want, ",") {
			return fmt.Errorf("pages of 1 gave %v, one page gave %v", keys, want)
		}
		return nil
	})
	c.check("batchsendmsg/history-of-every-receiver", func() error {
		if m4.key == "" {
			return errors.New("batchsendmsg failed")
		}
		var probs []string
		for _, u := range []string{s.alice, s.bob} {
			h, err := s.history(s.carol, u, 20)
			if err != nil {
				return failed("FetchMessages(carol, "+u+")", err)
			}
			var item *private.MessageItem
			for _, it := range h.List {
				if t, err := bodyText(it); err == nil && t == m4.text {
					item = it
				}
			}
			if item == nil {
				probs = append(probs, fmt.Sprintf("%s: batch message not in history %v", u, keysOf(h.List)))
				continue
			}
			m := m4
			m.to = u
			if item.MsgKey != m4.key {
				probs = append(probs, fmt.Sprintf("%s: message stored under MsgKey %s, but batchsendmsg returned %s (the key the caller must use to recall it)", u, item.MsgKey, m4.key))
				m.key = item.MsgKey
			}
			if err := m.matches(item); err != nil {
				probs = append(probs, u+": "+err.Error())
			}
		}
		if len(probs) > 0 {
			return errors.New(strings.Join(probs, "; "))
		}
		return nil
	})

	// --- unread counts and read state --------------------------------------------------
	unread := func(want map[string]int, total int) error {
		ret, err := priv.GetUnreadMessageNum(s.bob, s.alice, s.carol)
		if err != nil {
			return failed("GetUnreadMessageNum", err)
		}
		for peer, n := range want {
			got, ok := ret.Results[peer]
			if !ok {
				return fmt.Errorf("%s missing from C2CUnreadMsgNumList %v", peer, ret.Results)
			}
			if got != n {
				return fmt.Errorf("unread of %s from %s = %d, want %d (all: %v)", s.bob, peer, got, n, ret.Results)
			}
		}
		if ret.Total != total {
			return fmt.Errorf("AllC2CUnreadMsgNum = %d, want %d", ret.Total, total)
		}
		if len(ret.Errors) != 0 {
			return fmt.Errorf("ErrorList = %+v, want empty", ret.Errors)
		}
		return nil
	}
	// bob received m1 (once, despite the retry) and the batch message; the import is
	// historical (SyncFromOldSystem=2) and does not count.
	c.check("get_c2c_unread_msg_num", func() error {
		return unread(map[string]int{s.alice: 1, s.carol: 1}, 2)
	})
	c.check("admin_set_msg_read", func() error {
		if err := priv.SetMessageRead(s.bob, s.alice); err != nil {
			return failed("SetMessageRead", err)
		}
		return unread(map[string]int{s.alice: 0, s.carol: 1}, 1)
	})
	c.check("get_c2c_unread_msg_num/all-conversations", func() error {
		ret, err := priv.GetUnreadMessageNum(s.bob)
		if err != nil {
			return failed("GetUnreadMessageNum", err)
		}
		if ret.Total != 1 {
			return fmt.Errorf("AllC2CUnreadMsgNum = %d, want 1 (the batch message from carol)", ret.Total)
		}
		return nil
	})
	c.check("get_c2c_unread_msg_num/unknown-peer-in-ErrorList", func() error {
		ret, err := priv.GetUnreadMessageNum(s.bob, s.ghost)
		if err != nil {
			return failed("GetUnreadMessageNum", err)
		}
		for _, e := range ret.Errors {
			if e.UserId == s.ghost {
				if e.ErrorCode != 70107 {
					return fmt.Errorf("ErrorList entry for %s has ErrorCode %d, want 70107", s.ghost, e.ErrorCode)
				}
				return nil
			}
		}
		return fmt.Errorf("never-imported peer %s not in ErrorList (got C2CUnreadMsgNumList %v, ErrorList %+v); want ErrorList [{Peer_Account:%s ErrorCode:70107}]",
			s.ghost, ret.Results, ret.Errors, s.ghost)
	})

	// --- recall ---------------------------------------------------------------------------
	c.check("admin_msgwithdraw", func() error {
		if m1.key == "" {
			return errors.New("sendmsg failed; nothing to recall")
		}
		if err := priv.RevokeMessage(s.alice, s.bob, m1.key); err != nil {
			return failed("RevokeMessage", err)
		}
		h, err := s.history(s.alice, s.bob, 20)
		if err != nil {
			return failed("FetchMessages after recall", err)
		}
		if _, item := findKey(h.List, m1.key); item != nil {
			// The reference lists recalled messages and marks them in MsgFlagBits
			// (chatd: 8); absent would also do for a caller.
			if item.MsgFlagBits == 0 {
				return fmt.Errorf("recalled message %s still in history with MsgFlagBits 0 (want it absent or flagged)", m1.key)
			}
		}
		_, other := findKey(h.List, m2.key)
		if other == nil {
			return fmt.Errorf("recall of %s also removed %s", m1.key, m2.key)
		}
		return m2.matches(other)
	})
	// The SDK's documentation: to recall messages sent by sendmsg or batchsendmsg, keep
	// the MsgKey of the response. batchsendmsg returns one MsgKey for all receivers.
	c.check("admin_msgwithdraw/batch-message-by-returned-MsgKey", func() error {
		if m4.key == "" {
			return errors.New("batchsendmsg failed; nothing to recall")
		}
		var probs []string
		for _, u := range []string{s.alice, s.bob} {
			if err := priv.RevokeMessage(s.carol, u, m4.key); err != nil {
				probs = append(probs, fmt.Sprintf("RevokeMessage(%s, %s, %s): %s", s.carol, u, m4.key, describe(err)))
				continue
			}
			h, err := s.history(s.carol, u, 20)
			if err != nil {
				return failed("FetchMessages after recall", err)
			}
			for _, it := range h.List {
				if t, err := bodyText(it); err == nil && t == m4.text && it.MsgFlagBits == 0 {
					probs = append(probs, fmt.Sprintf("%s: recalled batch message %s still has MsgFlagBits 0", u, it.MsgKey))
				}
			}
		}
		if len(probs) > 0 {
			return errors.New(strings.Join(probs, "; "))
		}
		return nil
	})
	c.check("admin_msgwithdraw/unknown-MsgKey", func() error {
		err := priv.RevokeMessage(s.alice, s.bob, "1_2_3")
		if err == nil {
			return errors.New("recalling a MsgKey that was never sent succeeded")
		}
		if codeOf(err) <= 0 {
			return fmt.Errorf("recalling an unknown MsgKey: %s; want a reference error code", describe(err))
		}
		return nil
	})

	// --- profiles ------------------------------------------------------------------------------
	tags := []string{
		profile.StandardAttrNickname, profile.StandardAttrGender, profile.StandardAttrBirthday,
		profile.StandardAttrSignature, profile.StandardAttrAllowType, profile.StandardAttrLanguage,
		profile.StandardAttrAvatar, profile.StandardAttrLevel, profile.StandardAttrRole,
		"Tag_Profile_Custom_hobby",
	}
	c.check("portrait_get/values-from-account_import", func() error {
		ps, err := prof.GetProfiles([]string{s.alice}, []string{profile.StandardAttrNickname, profile.StandardAttrAvatar})
		if err != nil {
			return failed("GetProfiles", err)
		}
		if len(ps) != 1 || ps[0].GetUserId() != s.alice {
			return fmt.Errorf("got %d profiles, want alice's", len(ps))
		}
		if v, _ := ps[0].GetAttr(profile.StandardAttrNickname); v != "Alice" {
			return fmt.Errorf("Nick = %#v, want \"Alice\" (the Nick given to account_import)", v)
		}
		if v, _ := ps[0].GetAttr(profile.StandardAttrAvatar); v != faceURL {
			return fmt.Errorf("Image = %#v, want %q (the FaceUrl given to account_import)", v, faceURL)
		}
		return nil
	})
	p := profile.NewProfile(s.alice)
	p.SetNickname("Alice Liddell")
	p.SetGender(profile.GenderTypeFemale)
	p.SetBirthday(time.Date(1852, 5, 4, 0, 0, 0, 0, time.UTC))
	p.SetSignature("curiouser and curiouser")
	p.SetAllowType(profile.AllowTypeDenyAny)
	p.SetLanguage(2)
	p.SetAvatar("https://example.com/alice-2.png")
	p.SetLevel(7)
	p.SetRole(3)
	p.SetCustomAttr("hobby", "croquet")
	c.check("portrait_set", func() error {
		if err := prof.SetProfile(p); err != nil {
			return failed("SetProfile", err)
		}
		return nil
	})
	c.check("portrait_get", func() error {
		ps, err := prof.GetProfiles([]string{s.alice, s.bob}, tags)
		if err != nil {
			return failed("GetProfiles", err)
		}
		var got, bob *profile.Profile
		for _, x := range ps {
			switch x.GetUserId() {
			case s.alice:
				got = x
			case s.bob:
				bob = x
			}
		}
		if got == nil || bob == nil {
			return fmt.Errorf("UserProfileItem lacks alice or bob (%d items)", len(ps))
		}
		if !got.IsValid() || !bob.IsValid() {
			return fmt.Errorf("per-user ResultCode not 0: alice %v, bob %v", got.GetError(), bob.GetError())
		}
		var probs []string
		for tag, want := range p.GetAttrs() {
			v, ok := got.GetAttr(tag)
			if !ok {
				probs = append(probs, tag+" missing")
			} else if !sameJSON(v, want) {
				g, _ := json.Marshal(v)
				w, _ := json.Marshal(want)
				probs = append(probs, fmt.Sprintf("%s = %s, want %s", tag, g, w))
			}
		}
		if nick, ok := got.GetNickname(); !ok || nick != "Alice Liddell" {
			probs = append(probs, fmt.Sprintf("SDK GetNickname() = %q, %v", nick, ok))
		}
		if g, ok := got.GetGender(); !ok || g != profile.GenderTypeFemale {
			probs = append(probs, fmt.Sprintf("SDK GetGender() = %q, %v", g, ok))
		}
		if l, ok := got.GetLevel(); !ok || l != 7 {
			probs = append(probs, fmt.Sprintf("SDK GetLevel() = %d, %v", l, ok))
		}
		if len(probs) > 0 {
			return errors.New(strings.Join(probs, "; "))
		}
		return nil
	})
	c.check("portrait_get/unknown-account", func() error {
		ps, err := prof.GetProfiles([]string{s.alice, s.ghost}, []string{profile.StandardAttrNickname})
		if err != nil {
			if codeOf(err) <= 0 {
				return failed("GetProfiles", err)
			}
			return nil // the reference may refuse the whole request
		}
		for _, x := range ps {
			if x.GetUserId() == s.ghost {
				if x.IsValid() {
					return fmt.Errorf("never-imported %s returned with ResultCode 0", s.ghost)
				}
				return nil
			}
		}
		return fmt.Errorf("never-imported %s neither refused nor in UserProfileItem", s.ghost)
	})

	s.sns() // relationship chain (sns.go)

	// --- deleting accounts ----------------------------------------------------------------------
	c.check("account_delete", func() error {
		res, err := acc.DeleteAccounts(s.dave)
		if err != nil {
			return failed("DeleteAccounts", err)
		}
		for _, r := range res {
			if r.UserId == s.dave {
				if r.ResultCode != 0 {
					return fmt.Errorf("ResultItem for %s: ResultCode %d %q", s.dave, r.ResultCode, r.ResultInfo)
				}
				return nil
			}
		}
		return fmt.Errorf("%s missing from ResultItem %+v", s.dave, res)
	})
	c.check("account_check/deleted-is-NotImported", func() error {
		res, err := acc.CheckAccounts(s.dave, s.carol)
		if err != nil {
			return failed("CheckAccounts", err)
		}
		st := map[string]account.ImportedStatusType{}
		for _, r := range res {
			st[r.UserId] = r.Status
		}
		if st[s.dave] != account.ImportedStatusNo {
			return fmt.Errorf("deleted %s: AccountStatus %q, want NotImported", s.dave, st[s.dave])
		}
		if st[s.carol] != account.ImportedStatusYes {
			return fmt.Errorf("%s (not deleted): AccountStatus %q, want Imported", s.carol, st[s.carol])
		}
		return nil
	})
	c.check("sendmsg/deleted-receiver", func() error {
		msg := private.NewMessage()
		msg.SetSender(s.alice)
		msg.SetReceivers(s.dave)
		msg.SetContent(text("to a deleted account"))
		_, err := priv.SendMessage(msg)
		return wantCode("SendMessage to a deleted account", err, 90012)
	})

	s.profileFields()
	s.globalMute()
	s.push()
	s.recentContacts() // recentcontact.go
	s.groups()         // group.go
}
