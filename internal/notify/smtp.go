package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"github.com/chatd/chatd/internal/clock"
)

// SMTPConfig configures an SMTPSender.
type SMTPConfig struct {
	Addr     string // the relay, "host:port"
	From     string // the From address, e.g. "chatd <billing@example.com>"
	Username string // enables AUTH PLAIN when set
	Password string

	// Optional.
	Timeout   time.Duration // bounds one whole delivery; 10 s when zero
	TLSConfig *tls.Config   // for STARTTLS; nil verifies the relay against the system roots
	Clock     clock.Clock   // stamps the Date header; nil means the wall clock
}

// SMTPSender mails messages of the email channel through an SMTP relay, one
// connection per message. It upgrades the connection with STARTTLS whenever
// the relay offers it. Implicit TLS (port 465) is not supported.
//
// net/smtp sends AUTH PLAIN credentials only over TLS or to a relay on
// localhost, 127.0.0.1 or ::1; a remote relay without STARTTLS therefore
// fails with "unencrypted connection" rather than leak the password.
type SMTPSender struct {
	cfg  SMTPConfig
	host string        // the relay's host name, for TLS and AUTH
	from *mail.Address // parsed once, so a bad --smtp-from fails at start-up
}

// NewSMTPSender checks cfg and returns the sender.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("notify: smtp address %q: %w", cfg.Addr, err)
	}
	if hasCRLF(cfg.From) {
		return nil, errors.New("notify: smtp from address contains a line break")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("notify: smtp from address %q: %w", cfg.From, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	return &SMTPSender{cfg: cfg, host: host, from: from}, nil
}

// Send mails m; messages of other channels are not this sender's business and
// return nil.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	if m.Channel != ChannelEmail {
		return nil
	}
	// Compose first: a refused message never opens a connection.
	rcpt, msg, err := s.compose(m)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	// Report why the context ended rather than the broken connection it caused.
	fail := func(step string, err error) error {
		if cerr := context.Cause(ctx); cerr != nil {
			err = cerr
		}
		return fmt.Errorf("notify: smtp %s (message %s): %w", step, m.ID, err)
	}

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fail("dial", err)
	}
	// net/smtp knows no context: when ctx ends (cancelled, or the timeout
	// bounding the whole conversation), a past deadline breaks off any I/O.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return fail("greeting", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fail("hello", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		tc := s.cfg.TLSConfig
		if tc == nil {
			tc = &tls.Config{ServerName: s.host}
		}
		if err := c.StartTLS(tc); err != nil {
			return fail("starttls", err)
		}
	}
	if s.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fail("auth", errors.New("relay does not offer AUTH"))
		}
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.host)); err != nil {
			return fail("auth", err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return fail("mail from", err)
	}
	if err := c.Rcpt(rcpt); err != nil {
		return fail("rcpt to", err)
	}
	w, err := c.Data()
	if err != nil {
		return fail("data", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fail("data", err)
	}
	// Close reads the relay's verdict on the message.
	if err := w.Close(); err != nil {
		return fail("data", err)
	}
	// The relay has accepted the message: a failed QUIT must not make the
	// caller retry and mail it twice.
	_ = c.Quit()
	return nil
}

// compose checks m and returns the envelope recipient and the RFC 5322 message.
func (s *SMTPSender) compose(m Message) (rcpt string, msg []byte, err error) {
	// A line break in a header value would let the text inject headers (Bcc:).
	for _, f := range []struct{ name, v string }{{"recipient", m.Recipient}, {"subject", m.Subject}, {"id", m.ID}} {
		if hasCRLF(f.v) {
			return "", nil, fmt.Errorf("notify: smtp: %s of message %q contains a line break", f.name, m.ID)
		}
	}
	to, err := mail.ParseAddress(m.Recipient)
	if err != nil {
		return "", nil, fmt.Errorf("notify: smtp: recipient of message %s: %w", m.ID, err)
	}
	now := time.Now().UTC()
	if s.cfg.Clock != nil {
		now = s.cfg.Clock.Now()
	}
	domain := s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]

	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("From", s.from.String())
	header("To", to.String())
	b.WriteString(fold("Subject: " + mime.QEncoding.Encode("utf-8", m.Subject)))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+rand.Text()+"@"+domain+">")
	if m.ID != "" {
		header("X-Chatd-Notification-Id", m.ID)
	}
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	// Quoted-printable keeps lines short and 7-bit, so any relay takes it.
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	// The writer also turns every line break into CRLF. Writes to a
	// bytes.Buffer cannot fail.
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(m.Body))
	qp.Close()
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return to.Address, b.Bytes(), nil
}

// fold breaks a header line before spaces so that lines stay near 78
// characters (RFC 5322 section 2.2.3); unfolding gives the line back.
func fold(line string) string {
	var b strings.Builder
	n := 0 // length of the current output line
	for i, word := range strings.Split(line, " ") {
		switch {
		case i == 0:
		// Not before the first word of the value, and not before an empty word
		// (a folded line of blanks only is not allowed).
		case i > 1 && word != "" && n+1+len(word) > 78:
			b.WriteString("\r\n")
			n = 0
			fallthrough
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	b.WriteString("\r\n")
	return b.String()
}

func hasCRLF(s string) bool { return strings.ContainsAny(s, "\r\n") }
