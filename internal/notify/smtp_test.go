package notify

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/internal/clock"
	"github.com/chatd/chatd/internal/testcert"
)

// session is what the test SMTP server saw on one connection.
type session struct {
	ehlo     int
	tls      bool
	auth     string // the decoded AUTH PLAIN response
	from     string
	rcpt     []string
	data     string // raw, CRLFs kept, dots unstuffed
	quitDone bool
}

// smtpServer speaks just enough SMTP on 127.0.0.1 to receive one message per connection.
type smtpServer struct {
	addr     string
	auth     bool        // advertise AUTH PLAIN
	tls      *tls.Config // advertise STARTTLS
	conns    atomic.Int32
	sessions chan session
}

func startSMTP(t *testing.T, auth bool, tlsConfig *tls.Config) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &smtpServer{addr: ln.Addr().String(), auth: auth, tls: tlsConfig, sessions: make(chan session, 10)}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			go s.serve(conn)
		}
	}()
	return s
}

func (s *smtpServer) serve(conn net.Conn) {
	var sess session
	defer func() { conn.Close(); s.sessions <- sess }()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(conn)
	tp.PrintfLine("220 test.invalid ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			sess.ehlo++
			lines := []string{"test.invalid"} // the greeting line, then the extensions
			if s.tls != nil && !sess.tls {
				lines = append(lines, "STARTTLS")
			}
			if s.auth {
				lines = append(lines, "AUTH PLAIN")
			}
			lines = append(lines, "HELP")
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				tp.PrintfLine("250%s%s", sep, l)
			}
		case "STARTTLS":
			tp.PrintfLine("220 go ahead")
			tc := tls.Server(conn, s.tls)
			if tc.Handshake() != nil {
				return
			}
			conn, tp, sess.tls = tc, textproto.NewConn(tc), true
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			dec, err := base64.StdEncoding.DecodeString(resp)
			if mech != "PLAIN" || err != nil {
				tp.PrintfLine("504 unsupported")
				continue
			}
			sess.auth = string(dec)
			tp.PrintfLine("235 2.7.0 accepted")
		case "MAIL":
			sess.from = arg
			tp.PrintfLine("250 ok")
		case "RCPT":
			sess.rcpt = append(sess.rcpt, arg)
			tp.PrintfLine("250 ok")
		case "DATA":
			tp.PrintfLine("354 end with .")
			var b strings.Builder
			for {
				l, err := tp.R.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, ".")) // undo dot-stuffing
			}
			sess.data = b.String()
			tp.PrintfLine("250 queued")
		case "QUIT":
			sess.quitDone = true
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("502 not implemented")
		}
	}
}

func (s *smtpServer) next(t *testing.T) session {
	t.Helper()
	select {
	case sess := <-s.sessions:
		return sess
	case <-time.After(10 * time.Second):
		t.Fatal("no SMTP session ended")
		return session{}
	}
}

func newSMTP(t *testing.T, cfg SMTPConfig) *SMTPSender {
	t.Helper()
	s, err := NewSMTPSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTPSendsAProperMessage(t *testing.T) {
	srv := startSMTP(t, false, nil)
	now := time.Date(2031, 2, 22, 9, 0, 5, 0, time.UTC)
	s := newSMTP(t, SMTPConfig{Addr: srv.addr, From: "chatd billing <billing@chatd.example>", Clock: clock.NewManual(now)})

	m := testMessage(ChannelEmail)
	m.Subject = "Rappel : votre abonnement « Pro » expire bientôt — merci de le renouveler avant la date d’échéance"
	m.Body = "Bonjour,\n.une ligne qui commence par un point\nà bientôt\n" + strings.Repeat("long ", 40)
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	sess := srv.next(t)

	if sess.from != "FROM:<billing@chatd.example>" || len(sess.rcpt) != 1 || sess.rcpt[0] != "TO:<alice@example.org>" {
		t.Fatalf("envelope: MAIL %q RCPT %q", sess.from, sess.rcpt)
	}
	if sess.auth != "" {
		t.Fatal("AUTH sent without a user name")
	}
	if !sess.quitDone {
		t.Fatal("no QUIT")
	}
	if strings.Count(sess.data, "\n") != strings.Count(sess.data, "\r\n") {
		t.Fatalf("bare LF in the message:\n%q", sess.data)
	}
	head, text, _ := strings.Cut(sess.data, "\r\n\r\n")
	if !strings.Contains(head, "Subject: =?utf-8?q?Rappel_:") || strings.Count(head, "\r\n =?utf-8?q?") < 2 {
		t.Fatalf("long Subject not folded:\n%s", head)
	}
	for _, l := range strings.Split(head, "\r\n") {
		if len(l) > 998 { // RFC 5322 hard limit; an encoded word alone may pass 78
			t.Fatalf("header line of %d characters", len(l))
		}
	}
	for _, l := range strings.Split(text, "\r\n") {
		if len(l) > 76 { // RFC 2045 limit for quoted-printable
			t.Fatalf("body line longer than 76 characters: %q", l)
		}
	}

	msg, err := mail.ReadMessage(strings.NewReader(sess.data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Fatalf("Subject %q decodes to %q (%v)", h.Get("Subject"), subject, err)
	}
	if from, err := h.AddressList("From"); err != nil || from[0].Address != "billing@chatd.example" || from[0].Name != "chatd billing" {
		t.Fatalf("From %q: %v", h.Get("From"), err)
	}
	if to, err := h.AddressList("To"); err != nil || to[0].Address != "alice@example.org" {
		t.Fatalf("To %q: %v", h.Get("To"), err)
	}
	if date, err := h.Date(); err != nil || !date.Equal(now) {
		t.Fatalf("Date %q: %v", h.Get("Date"), err)
	}
	if id := h.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@chatd.example>") {
		t.Fatalf("Message-ID %q", id)
	}
	for k, v := range map[string]string{
		"MIME-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
		"X-Chatd-Notification-Id":   "n-42",
	} {
		if h.Get(k) != v {
			t.Fatalf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(m.Body, "\n", "\r\n") + "\r\n"; string(body) != want {
		t.Fatalf("body = %q\nwant   %q", body, want)
	}
}

func TestSMTPAuthPlain(t *testing.T) {
	srv := startSMTP(t, true, nil)
	// 127.0.0.1 counts as local, so net/smtp allows PLAIN without TLS.
	s := newSMTP(t, SMTPConfig{Addr: srv.addr, From: "billing@chatd.example", Username: "relay-user", Password: "s3cret"})
	if err := s.Send(context.Background(), testMessage(ChannelEmail)); err != nil {
		t.Fatal(err)
	}
	if sess := srv.next(t); sess.auth != "\x00relay-user\x00s3cret" || sess.data == "" {
		t.Fatalf("AUTH PLAIN response %q, data %d bytes", sess.auth, len(sess.data))
	}
}

func TestSMTPStartTLS(t *testing.T) {
	certFile, keyFile := testcert.Write(t, t.TempDir())
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)

	srv := startSMTP(t, true, &tls.Config{Certificates: []tls.Certificate{cert}})
	s := newSMTP(t, SMTPConfig{
		Addr: srv.addr, From: "billing@chatd.example", Username: "relay-user", Password: "s3cret",
		TLSConfig: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"},
	})
	if err := s.Send(context.Background(), testMessage(ChannelEmail)); err != nil {
		t.Fatal(err)
	}
	sess := srv.next(t)
	if !sess.tls || sess.ehlo != 2 || sess.auth != "\x00relay-user\x00s3cret" || sess.data == "" {
		t.Fatalf("session %+v", sess)
	}
}

func TestSMTPRefusesLineBreaksBeforeConnecting(t *testing.T) {
	srv := startSMTP(t, false, nil)
	s := newSMTP(t, SMTPConfig{Addr: srv.addr, From: "billing@chatd.example"})
	with := func(change func(*Message)) Message {
		m := testMessage(ChannelEmail)
		change(&m)
		return m
	}
	for _, m := range []Message{
		with(func(m *Message) { m.Recipient = "alice@example.org\r\nBcc: all@example.net" }),
		with(func(m *Message) { m.Recipient = "alice@example.org\nBcc: all@example.net" }),
		with(func(m *Message) { m.Subject = "hello\nBcc: all@example.net" }),
		with(func(m *Message) { m.Recipient = "not an address" }),
	} {
		if err := s.Send(context.Background(), m); err == nil {
			t.Fatalf("recipient %q subject %q accepted", m.Recipient, m.Subject)
		}
	}
	if n := srv.conns.Load(); n != 0 {
		t.Fatalf("%d connections to the relay, want none", n)
	}
}

func TestSMTPIgnoresSMS(t *testing.T) {
	srv := startSMTP(t, false, nil)
	s := newSMTP(t, SMTPConfig{Addr: srv.addr, From: "billing@chatd.example"})
	m := testMessage(ChannelSMS)
	m.Recipient = "+41790000000"
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if n := srv.conns.Load(); n != 0 {
		t.Fatalf("%d connections to the relay, want none", n)
	}
}

func TestSMTPTimeout(t *testing.T) {
	// A relay that accepts but never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, bufio.NewReader(conn)); conn.Close() }()
		}
	}()
	s := newSMTP(t, SMTPConfig{Addr: ln.Addr().String(), From: "billing@chatd.example", Timeout: 200 * time.Millisecond})
	start := time.Now()
	err = s.Send(context.Background(), testMessage(ChannelEmail))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	s = newSMTP(t, SMTPConfig{Addr: ln.Addr().String(), From: "billing@chatd.example"})
	if err := s.Send(ctx, testMessage(ChannelEmail)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want cancellation", err)
	}
}

func TestNewSMTPSenderChecksConfig(t *testing.T) {
	for _, cfg := range []SMTPConfig{
		{Addr: "mail.example.com", From: "billing@chatd.example"}, // no port
		{Addr: "mail.example.com:25", From: "not an address"},
		{Addr: "mail.example.com:25", From: "billing@chatd.example\r\nBcc: x@example.net"},
	} {
		if _, err := NewSMTPSender(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
