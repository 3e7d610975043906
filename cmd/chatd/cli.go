package main

// The operator CLI: the chatd binary as a client of a running server's operator API
// (package operator), plus `chatd usersig`, which runs locally.
//
// Global flags (--server, --token, --data, --json) may come before, between or after
// the command words: `chatd --json app show --sdkappid 1` and
// `chatd app show --sdkappid 1 --json` are the same.
//
// Exit codes: 0 success, 1 failure (the server refused, or could not be reached),
// 2 usage error (unknown command, bad or missing flags, no operator token).

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chatd/chatd/internal/input"
	"github.com/chatd/chatd/internal/operator"
	"github.com/chatd/chatd/internal/usersig"
)

// defaultUserSigExpire is the validity of `chatd usersig` sigs without --expire: 180
// days, as in the public TLSSigAPIv2 examples.
const defaultUserSigExpire = 180 * 24 * 3600

// cli is one run of the CLI; tests build it with their own writers and environment.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	client         *http.Client
	now            func() time.Time

	// global flags
	server, token, data string
	json                bool

	// parsed is the flag set of the command being run, for its help.
	parsed *flag.FlagSet
}

// usageError is a mistake in the command line (exit code 2). flags marks a
// mistake in a command's flags, which is followed by their help.
type usageError struct {
	msg   string
	flags bool
}

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{msg: fmt.Sprintf(format, a...)} }

func runCLI(args []string) int {
	c := &cli{
		stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		client: &http.Client{Timeout: 60 * time.Second}, now: time.Now,
	}
	return c.run(args)
}

func (c *cli) run(args []string) int {
	c.server = c.envOr("CHATD_SERVER", "http://127.0.0.1:8080")
	c.data = c.envOr("CHATD_DATA", "./chatd-data")
	// --token defaults to CHATD_TOKEN, else the token file in --data (read later,
	// only by commands that call the server).
	c.token = c.getenv("CHATD_TOKEN")

	err := c.dispatch(args)
	var ue usageError
	var code exitCode
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		printFlags(c.stdout, c.parsed)
		return 0
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &ue):
		fmt.Fprintln(c.stderr, "chatd:", ue.msg)
		if ue.flags && c.parsed != nil {
			printFlags(c.stderr, c.parsed)
		} else {
			fmt.Fprintln(c.stderr, "Run 'chatd help' for the list of commands.")
		}
		return 2
	default:
		fmt.Fprintln(c.stderr, "chatd:", err)
		return 1
	}
}

func (c *cli) envOr(name, def string) string {
	if v := c.getenv(name); v != "" {
		return v
	}
	return def
}

// globals registers the global flags on fs with their current values as defaults,
// so that flags given earlier on the command line are kept.
func (c *cli) globals(fs *flag.FlagSet) {
	fs.StringVar(&c.server, "server", c.server, "operator API base URL (env CHATD_SERVER)")
	fs.Var(secretFlag{&c.token}, "token", "operator `token` (env CHATD_TOKEN; default: the token file in --data)")
	fs.StringVar(&c.data, "data", c.data, "server data directory holding operator.token (env CHATD_DATA)")
	fs.BoolVar(&c.json, "json", c.json, "print the server's JSON answer")
}

// secretFlag is a string flag whose value never appears in usage output (the token
// may come from CHATD_TOKEN or an earlier --token and must not be printed as a default).
type secretFlag struct{ p *string }

func (f secretFlag) String() string {
	return ""
}

func (f secretFlag) Set(v string) error {
	*f.p = v
	return nil
}

// flagSet returns the flag set of the command name, with the global flags.
// It prints nothing: run prints its help to stdout when asked for, or with the
// error to stderr.
func (c *cli) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("chatd "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	c.globals(fs)
	c.parsed = fs
	return fs
}

// word parses global flags up to the next command word and returns it with the
// arguments after it.
func (c *cli) word(args []string, what string) (string, []string, error) {
	fs := c.flagSet("")
	c.parsed = nil // not a command's flag set
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", nil, err
		}
		return "", nil, usageError{msg: err.Error()}
	}
	if fs.NArg() == 0 {
		return "", nil, usagef("missing %s", what)
	}
	return fs.Arg(0), fs.Args()[1:], nil
}

// parseSub parses a subcommand's flags (and the global ones) and refuses leftovers.
func parseSub(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return flagError(fs, err)
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// flagError is the usage error of a flag parse failure of fs; its help follows.
func flagError(fs *flag.FlagSet, err error) error {
	return usageError{msg: strings.TrimPrefix(fs.Name(), "chatd ") + ": " + err.Error(), flags: true}
}

func requireFlags(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		if f := fs.Lookup(n); f == nil || f.Value.String() == "" {
			return usagef("%s: --%s is required", fs.Name(), n)
		}
	}
	return nil
}

// command is one command of the binary. The table below is the one list of
// them: help, dispatch and the messages about unknown commands come from it.
type command struct {
	words    string // "app create"
	synopsis string // its flags and arguments, for help
	note     string // a remark printed under it; may be empty
	run      func(c *cli, args []string) error
}

// section is a group of commands under a heading in `chatd help`.
type section struct {
	heading, footer string
	commands        []command
}

// sections is the table; init fills it, as help runs from it.
var sections []section

func init() {
	sections = []section{
		{heading: "Server:", commands: []command{
			{"serve", "[flags]", "run the server; chatd serve -h describes every flag, each also a CHATD_* variable", (*cli).serve},
			{"version", "", "print the version, VCS revision and Go version of this binary", (*cli).version},
			{"help", "[COMMAND]", "print this help, or one command's", (*cli).help},
		}},
		{heading: "Operator CLI (global flags: --server URL, --token T, --data DIR, --json):", commands: []command{
			{"account create", "--name NAME --email EMAIL [--phone P]", "", (*cli).accountCreate},
			{"account show", "--account ID", "", (*cli).accountShow},
			{"app create", "--account ID --name NAME [--region REGION]", "", (*cli).appCreate},
			{"app list", "--account ID", "", (*cli).appList},
			{"app show", "--sdkappid N", "", (*cli).appShow},
			{"app delete", "--sdkappid N --confirm N", "", (*cli).appDelete},
			{"app mau", "--sdkappid N [--month YYYY-MM]", "", (*cli).appMAU},
			{"app push-task", "--sdkappid N --task TASKID", "progress of an im_push", (*cli).appPushTask},
			{"app extend-trial", "--sdkappid N", "", (*cli).appExtendTrial},
			{"app profile-field add", "--sdkappid N --name X [--type string|integer] [--max-bytes N]", "declares Tag_Profile_Custom_X", (*cli).appProfileFieldAdd},
			{"app profile-field list", "--sdkappid N", "", (*cli).appProfileFieldList},
			{"app settings", "show|set --sdkappid N [--set KEY=VALUE ...]", "per-app settings; known: friend_only_c2c=on|off", (*cli).appSettings},
			{"app callback set", "--sdkappid N --url URL [--callback-token T] [--events CMD,CMD...|all]",
				"webhooks; the token may come from env CHATD_CALLBACK_TOKEN (not in shell history)", (*cli).appCallbackSet},
			{"app callback off", "--sdkappid N", "clears the URL; the token and events are kept", (*cli).appCallbackOff},
			{"app callback show", "--sdkappid N", "the token is never shown", (*cli).appCallbackShow},
			{"app callback log", "--sdkappid N [--limit N]", "recent requests, newest first, and the outbox backlog", (*cli).appCallbackLog},
			{"usersig", "--sdkappid N --key K --user U [--expire SECONDS]", "computed here; needs no server", (*cli).userSig},
		}},
		{heading: "Money (amounts in USD, e.g. 100 or 99.50):",
			footer: "Orders without --request-id get a random one, so one command never charges twice.",
			commands: []command{
				{"catalog", "", "", (*cli).catalog},
				{"account topup", "--account ID [--cash X] [--credit Y] [--request-id K]", "", (*cli).accountTopUp},
				{"account suspend", "--account ID --reason R", "permanent: a content violation", (*cli).accountSuspend},
				{"voucher issue", "--account ID --amount X --expires YYYY-MM-DD|RFC3339 [--scope all|editions|addons]", "", (*cli).voucherIssue},
				{"voucher list", "--account ID", "", (*cli).voucherList},
				{"plan buy", "--sdkappid N --edition standard|premium --months 1..24 --accept-agreement\n" +
					"    [--auto-renew] [--voucher ID] [--discount X] [--non-refundable REASON] [--request-id K]", "", (*cli).planBuy},
				{"plan upgrade", "--sdkappid N --edition premium [--voucher ID] [--request-id K]", "", (*cli).planUpgrade},
				{"plan renew", "--sdkappid N[,N...] --months M [--voucher ID] [--request-id K]", "", (*cli).planRenew},
				{"plan auto-renew", "--sdkappid N --on|--off", "", (*cli).planAutoRenew},
				{"plan refund", "--sdkappid N [--reason R] [--request-id K]", "", (*cli).planRefund},
				{"addon buy", "--sdkappid N --addon ID [--quantity Q] --months M [--voucher ID] [--request-id K]", "", (*cli).addonBuy},
				{"addon refund", "--sdkappid N --addon ID [--reason R] [--request-id K]", "", (*cli).addonRefund},
				{"addon promote", "--addon ID --free-until DATE | --end", "", (*cli).addonPromote},
				{"order list", "--account ID", "", (*cli).orderList},
				{"order non-refundable", "--order ID --reason R | --allow", "", (*cli).orderNonRefundable},
				{"bill list", "--account ID", "", (*cli).billList},
				{"notification list", "--account ID", "", (*cli).notificationList},
			}},
		{heading: "Clock (moving it needs a server started with --fake-clock):", commands: []command{
			{"clock show", "", "", (*cli).clockShow},
			{"clock set", "TIME", "RFC 3339, e.g. 2027-01-31T00:00:00Z", (*cli).clockSet},
			{"clock advance", "DURATION", "e.g. 24h, 30d, 1d12h", (*cli).clockAdvance},
		}},
	}
}

// lookup returns the command of words.
func lookup(words string) (command, bool) {
	for _, s := range sections {
		for _, cmd := range s.commands {
			if cmd.words == words {
				return cmd, true
			}
		}
	}
	return command{}, false
}

// firstWords lists the distinct first words of the commands, in table order:
// "serve, version, ..., clock".
func firstWords() string {
	var ws []string
	for _, s := range sections {
		for _, cmd := range s.commands {
			if w, _, _ := strings.Cut(cmd.words, " "); !slices.Contains(ws, w) {
				ws = append(ws, w)
			}
		}
	}
	return strings.Join(ws, ", ")
}

// secondWords lists the subcommands of first, "" if it has none.
func secondWords(first string) string {
	var ws []string
	for _, s := range sections {
		for _, cmd := range s.commands {
			if w, rest, ok := strings.Cut(cmd.words, " "); ok && w == first {
				ws = append(ws, rest)
			}
		}
	}
	return strings.Join(ws, ", ")
}

// printHelp prints the commands whose words start with prefix (all for ""),
// under their headings.
func printHelp(w io.Writer, prefix string) {
	if prefix == "" {
		fmt.Fprint(w, "chatd — self-hosted chat cloud\n")
	}
	for _, s := range sections {
		var lines []string
		for _, cmd := range s.commands {
			if prefix != "" && cmd.words != prefix && !strings.HasPrefix(cmd.words, prefix+" ") {
				continue
			}
			line := "  chatd " + cmd.words
			if cmd.synopsis != "" {
				line += " " + strings.ReplaceAll(cmd.synopsis, "\n", "\n        ")
			}
			if cmd.note != "" {
				line += "\n        " + cmd.note
			}
			lines = append(lines, line)
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s\n%s\n", s.heading, strings.Join(lines, "\n"))
		if s.footer != "" && prefix == "" {
			fmt.Fprintf(w, "  %s\n", s.footer)
		}
	}
}

// printFlags prints the usage of one command, whose flags fs holds, to w.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	words := strings.TrimPrefix(fs.Name(), "chatd ")
	cmd, _ := lookup(words)
	fmt.Fprintf(w, "Usage: chatd %s %s\n", words, strings.ReplaceAll(cmd.synopsis, "\n", "\n        "))
	if cmd.note != "" {
		fmt.Fprintf(w, "  %s\n", cmd.note)
	}
	fmt.Fprintln(w, "\nFlags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// dispatch finds the command of args in the table and runs it. Help asked for
// at the first or second word prints the matching part of the table.
func (c *cli) dispatch(args []string) error {
	w, rest, err := c.word(args, "command ("+firstWords()+")")
	if errors.Is(err, flag.ErrHelp) {
		printHelp(c.stdout, "")
		return nil
	}
	if err != nil {
		return err
	}
	if cmd, ok := lookup(w); ok {
		if w == "serve" && args[0] != w {
			// serve has flags of its own (--data too): ones before it would be lost.
			return usagef("give serve's flags after it: chatd serve %s", strings.Join(args[:len(args)-len(rest)-1], " "))
		}
		return cmd.run(c, rest)
	}
	subs := secondWords(w)
	if subs == "" {
		return usagef("unknown command %q (%s)", w, firstWords())
	}
	w2, rest, err := c.word(rest, w+" command ("+subs+")")
	if errors.Is(err, flag.ErrHelp) {
		printHelp(c.stdout, w)
		return nil
	}
	if err != nil {
		return err
	}
	cmd, ok := lookup(w + " " + w2)
	if !ok && thirdWords(w+" "+w2) != "" {
		return c.dispatchThird(w+" "+w2, rest)
	}
	if !ok {
		return usagef("unknown command '%s %s' (%s)", w, w2, subs)
	}
	return cmd.run(c, rest)
}

// help prints the whole table, or the part of one command or group.
func (c *cli) help(args []string) error {
	if len(args) == 0 {
		printHelp(c.stdout, "")
		return nil
	}
	return c.dispatch(append(args, "-h"))
}

// serve runs the server; it reports its own errors.
func (c *cli) serve(args []string) error {
	if code := runServe(c.stdout, c.stderr, args); code != 0 {
		return exitCode(code)
	}
	return nil
}

// version prints the main module's version, its VCS revision and the Go
// version, as recorded in the binary.
func (c *cli) version(args []string) error {
	fs := c.flagSet("version")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return errors.New("this binary carries no build information")
	}
	fmt.Fprintln(c.stdout, versionLine(info))
	return nil
}

// versionLine is "chatd VERSION (revision REV, TIME[, modified]) GOVERSION";
// the parenthesis is left out when the build recorded no VCS revision.
func versionLine(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	set := map[string]string{}
	for _, s := range info.Settings {
		set[s.Key] = s.Value
	}
	line := "chatd " + v
	if rev := set["vcs.revision"]; rev != "" {
		line += " (revision " + rev
		if t := set["vcs.time"]; t != "" {
			line += ", " + t
		}
		if set["vcs.modified"] == "true" {
			line += ", modified"
		}
		line += ")"
	}
	return line + " " + info.GoVersion
}

// exitCode ends the CLI with this status, having reported the problem already.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func (c *cli) accountCreate(args []string) error {
	fs := c.flagSet("account create")
	name := fs.String("name", "", "account name (required)")
	email := fs.String("email", "", "contact email (required)")
	phone := fs.String("phone", "", "contact phone")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "name", "email"); err != nil {
		return err
	}
	return callAndPrint(c, "POST", "/accounts", nil, map[string]string{"name": *name, "email": *email, "phone": *phone}, printAccount)
}

func (c *cli) accountShow(args []string) error {
	fs := c.flagSet("account show")
	id := fs.String("account", "", "account ID (required)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "account"); err != nil {
		return err
	}
	return callAndPrint(c, "GET", "/accounts/"+url.PathEscape(*id), nil, nil, printAccount)
}

func (c *cli) appCreate(args []string) error {
	fs := c.flagSet("app create")
	account := fs.String("account", "", "owning account ID (required)")
	name := fs.String("name", "", "app name (required)")
	region := fs.String("region", "", "data center (default: the server's default region)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requireFlags(fs, "account", "name"); err != nil {
		return err
	}
	return callAndPrint(c, "POST", "/apps", nil, map[string]string{"account": *account, "name": *name, "region": *region}, printApp)
}

func (c *cli) appList(args []string) error {
	return accountList(c, args, "app list", "/apps", "apps",
		func(l *operator.AppList) int { return len(l.Apps) },
		func(w io.Writer, l *operator.AppList) {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SDKAPPID\tNAME\tREGION\tEDITION\tSTATUS\tEXPIRES")
			for _, a := range l.Apps {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", a.SDKAppID, a.Name, a.Region, a.Edition, a.Status, a.ExpiresAt)
			}
			tw.Flush()
		})
}

func (c *cli) sdkappidFlag(fs *flag.FlagSet) *int64 {
	return fs.Int64("sdkappid", 0, "the app's SDKAppID (required)")
}

func (c *cli) appShow(args []string) error {
	fs := c.flagSet("app show")
	id := c.sdkappidFlag(fs)
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	return callAndPrint(c, "GET", "/apps/"+strconv.FormatInt(*id, 10), nil, nil, printApp)
}

func (c *cli) appDelete(args []string) error {
	fs := c.flagSet("app delete")
	id := c.sdkappidFlag(fs)
	confirm := fs.String("confirm", "", "repeat the SDKAppID to confirm: deletion removes all data of the app and cannot be undone (required)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	if *confirm == "" {
		return usagef("app delete: deleting app %d removes all of its users, groups and messages and cannot be undone; to confirm, add --confirm %d", *id, *id)
	}
	// The server checks the confirmation, so a mismatch is refused with its message.
	return callAndPrint(c, "DELETE", "/apps/"+strconv.FormatInt(*id, 10), url.Values{"confirm": {*confirm}}, nil, func(w io.Writer, d operator.Deleted) {
		fmt.Fprintf(w, "Deleted app %d and all of its data.\n", d.Deleted)
	})
}

func (c *cli) appMAU(args []string) error {
	fs := c.flagSet("app mau")
	id := c.sdkappidFlag(fs)
	month := fs.String("month", "", "UTC month YYYY-MM (default: the server's current month)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	var q url.Values
	if *month != "" {
		q = url.Values{"month": {*month}}
	}
	return callAndPrint(c, "GET", "/apps/"+strconv.FormatInt(*id, 10)+"/mau", q, nil, func(w io.Writer, m operator.MAU) {
		fmt.Fprintf(w, "App %d: %d monthly active users in %s (UTC)\n", m.SDKAppID, m.MAU, m.Month)
	})
}

// userSig prints a UserSig computed locally; it needs no server. It prints the sig
// alone, also with --json, so that SIG=$(chatd usersig ...) works.
func (c *cli) userSig(args []string) error {
	fs := c.flagSet("usersig")
	id := c.sdkappidFlag(fs)
	key := fs.String("key", "", "the app's secret key (required)")
	user := fs.String("user", "", "UserID the sig is for (required)")
	expire := fs.Int64("expire", defaultUserSigExpire, "validity in seconds")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	if err := requireFlags(fs, "key", "user"); err != nil {
		return err
	}
	if *expire <= 0 {
		return usagef("usersig: --expire must be a positive number of seconds")
	}
	sig, err := usersig.Gen(*id, *key, *user, *expire, c.now())
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, sig)
	return nil
}

func requirePositive(fs *flag.FlagSet, name string, v int64) error {
	if v <= 0 {
		return usagef("%s: --%s is required (a positive integer)", fs.Name(), name)
	}
	return nil
}

// callAndPrint sends one request to the operator API and prints the answer: the
// server's JSON with --json, else human applied to the decoded answer.
func callAndPrint[T any](c *cli, method, path string, query url.Values, body any, human func(io.Writer, T)) error {
	var v T
	raw, err := c.call(method, path, query, body, &v)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer) { human(w, v) })
}

// print writes the server's JSON (compact, one line) with --json, else human form.
func (c *cli) print(raw []byte, human func(io.Writer)) error {
	if c.json {
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return fmt.Errorf("the server's answer is not JSON: %w", err)
		}
		b.WriteByte('\n')
		_, err := c.stdout.Write(b.Bytes())
		return err
	}
	human(c.stdout)
	return nil
}

// resolveToken returns --token, else CHATD_TOKEN, else the content of
// --data/operator.token.
func (c *cli) resolveToken() (string, error) {
	if t := strings.TrimSpace(c.token); t != "" {
		return t, nil
	}
	path := filepath.Join(c.data, operator.TokenFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", usagef("no operator token: pass --token, set CHATD_TOKEN, or point --data (CHATD_DATA) at the server's data directory (%s does not exist)", path)
	}
	if err != nil {
		return "", fmt.Errorf("reading the operator token: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("operator token file %s is empty", path)
	}
	return t, nil
}

// call sends one request to the operator API and decodes a 2xx answer into out,
// returning the raw body too. A non-2xx answer becomes an error carrying the
// server's message.
func (c *cli) call(method, path string, query url.Values, body any, out any) ([]byte, error) {
	base, err := url.Parse(c.server)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, usagef("--server must be an http:// or https:// URL, not %q", c.server)
	}
	// json.Marshal would send invalid UTF-8 as U+FFFD: refuse it, and NUL, here.
	rawPath, _ := url.PathUnescape(path) // the path's ids are escaped
	if err := errors.Join(input.Text(rawPath), input.Values(query), checkStrings(reflect.ValueOf(body))); err != nil {
		return nil, usagef("arguments must be text: %v", err)
	}
	token, err := c.resolveToken()
	if err != nil {
		return nil, err
	}
	u := strings.TrimRight(c.server, "/") + operator.Prefix + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return nil, usagef("bad request URL %q: %v", u, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the chatd server at %s (set --server or CHATD_SERVER): %w", c.server, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the server's answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e operator.Error
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("%s (HTTP %d)", e.Error, resp.StatusCode)
		}
		snippet := strings.TrimSpace(string(raw))
		if len(snippet) > 200 {
			snippet = snippet[:200] + "…"
		}
		return nil, fmt.Errorf("the server answered %s: %s", resp.Status, snippet)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("the server's answer is not the expected JSON (is --server %s a chatd server?): %w", c.server, err)
	}
	return raw, nil
}

func printAccount(w io.Writer, a operator.Account) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Account:\t%s\n", a.ID)
	fmt.Fprintf(tw, "Name:\t%s\n", a.Name)
	fmt.Fprintf(tw, "Email:\t%s\n", a.Email)
	if a.Phone != "" {
		fmt.Fprintf(tw, "Phone:\t%s\n", a.Phone)
	}
	status := a.Status
	if a.SuspendReason != "" {
		status += fmt.Sprintf(" (%s, since %s)", a.SuspendReason, a.SuspendedAt)
	}
	fmt.Fprintf(tw, "Status:\t%s\n", status)
	fmt.Fprintf(tw, "Balance:\t%s (cash %s, credit %s)\n", usd(a.Balance.Total), usd(a.Balance.Cash), usd(a.Balance.Credit))
	if a.OverdueSince != "" {
		fmt.Fprintf(tw, "Overdue since:\t%s\n", a.OverdueSince)
	}
	fmt.Fprintf(tw, "Created:\t%s\n", a.CreatedAt)
	tw.Flush()
}

func printApp(w io.Writer, a operator.App) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SDKAppID:\t%d\n", a.SDKAppID)
	fmt.Fprintf(tw, "Name:\t%s\n", a.Name)
	fmt.Fprintf(tw, "Account:\t%s\n", a.Account)
	fmt.Fprintf(tw, "Region:\t%s\n", a.Region)
	fmt.Fprintf(tw, "Edition:\t%s\n", a.Edition)
	status := a.Status
	if a.SuspendReason != "" {
		status += fmt.Sprintf(" (%s, since %s)", a.SuspendReason, a.SuspendedAt)
	}
	fmt.Fprintf(tw, "Status:\t%s\n", status)
	fmt.Fprintf(tw, "Created:\t%s\n", a.CreatedAt)
	fmt.Fprintf(tw, "Expires:\t%s\n", a.ExpiresAt)
	if a.PlanAnchor != "" {
		fmt.Fprintf(tw, "Plan anchor:\t%s\n", a.PlanAnchor)
		fmt.Fprintf(tw, "Auto-renew:\t%s\n", yesNo(a.AutoRenew))
	}
	if a.TrialExtended {
		fmt.Fprintf(tw, "Trial extended:\tyes\n")
	}
	fmt.Fprintf(tw, "Secret key:\t%s\n", a.SecretKey)
	fmt.Fprintf(tw, "Admin user:\t%s\n", a.AdminUser)
	tw.Flush()
}

// checkStrings applies input.Text to every string in v (maps, structs, slices).
func checkStrings(v reflect.Value) error {
	switch v.Kind() {
	case reflect.String:
		return input.Text(v.String())
	case reflect.Interface, reflect.Pointer:
		if !v.IsNil() {
			return checkStrings(v.Elem())
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := errors.Join(checkStrings(it.Key()), checkStrings(it.Value())); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkStrings(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if err := checkStrings(v.Field(i)); err != nil {
				return err
			}
		}
	}
	return nil
}
