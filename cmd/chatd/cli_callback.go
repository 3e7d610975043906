package main

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/chatd/chatd/internal/operator"
)

// callbackTokenEnv holds the callback authentication token for
// `app callback set`, so that it stays out of shell history.
const callbackTokenEnv = "CHATD_CALLBACK_TOKEN"

func callbackPath(id int64) string { return "/apps/" + strconv.FormatInt(id, 10) + "/callback" }

// appCallbackSet is `app callback set`: PUT /operator/v1/apps/{sdkappid}/callback.
// --url, --callback-token (else CHATD_CALLBACK_TOKEN; "" removes it) and
// --events replace what they name; what is not given is kept (the first
// setting without --events turns every command on).
func (c *cli) appCallbackSet(args []string) error {
	fs := c.flagSet("app callback set")
	id := c.sdkappidFlag(fs)
	u := fs.String("url", "", "the app's callback URL, http:// or https:// (default: keep the current one)")
	var token string
	fs.Var(secretFlag{&token}, "callback-token", "callback authentication `token` that signs requests (Sign = sha256(token + RequestTime));\n"+
		"better in env "+callbackTokenEnv+", which stays out of shell history; neither keeps the current token")
	events := fs.String("events", "", "comma-separated CallbackCommand names, or all (default: keep the current ones; all on an app never configured)")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	body := map[string]any{}
	given := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "callback-token":
			given = true
		case "url":
			body["url"] = *u
		}
	})
	if given {
		body["token"] = token
	} else if t := c.getenv(callbackTokenEnv); t != "" {
		body["token"] = t
	}
	if *events != "" {
		cmds := []string{}
		for _, e := range strings.Split(*events, ",") {
			if e = strings.TrimSpace(e); e != "" {
				cmds = append(cmds, e)
			}
		}
		body["commands"] = cmds
	}
	return callAndPrint(c, "PUT", callbackPath(*id), nil, body, printCallback)
}

// appCallbackOff is `app callback off`: the URL is cleared; the token and the
// commands stay for a later `set`.
func (c *cli) appCallbackOff(args []string) error {
	fs := c.flagSet("app callback off")
	id := c.sdkappidFlag(fs)
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	return callAndPrint(c, "PUT", callbackPath(*id), nil, map[string]any{"url": ""}, printCallback)
}

// appCallbackShow is `app callback show`.
func (c *cli) appCallbackShow(args []string) error {
	fs := c.flagSet("app callback show")
	id := c.sdkappidFlag(fs)
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	return callAndPrint(c, "GET", callbackPath(*id), nil, nil, printCallback)
}

// appCallbackLog is `app callback log`: the newest requests, newest first, and
// the after-events waiting in the outbox.
func (c *cli) appCallbackLog(args []string) error {
	fs := c.flagSet("app callback log")
	id := c.sdkappidFlag(fs)
	limit := fs.Int("limit", operator.DefaultCallbackLogLimit, "entries to show, 1 to 200")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if err := requirePositive(fs, "sdkappid", *id); err != nil {
		return err
	}
	if *limit < 1 || *limit > 200 {
		return usagef("app callback log: --limit must be 1 to 200")
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	return callAndPrint(c, "GET", callbackPath(*id)+"/log", q, nil, func(w io.Writer, l operator.CallbackLogList) {
		if len(l.Entries) == 0 {
			fmt.Fprintf(w, "App %d: no callback requests logged.\n", *id)
		} else {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tCOMMAND\tRESULT\tSTATUS\tMS\tATTEMPT\tERROR")
			for _, e := range l.Entries {
				status := "-"
				if e.Status != 0 {
					status = strconv.Itoa(e.Status)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", e.At, e.Command, e.Result, status, e.Millis, e.Attempt, oneLine(e.Error))
			}
			tw.Flush()
		}
		fmt.Fprintf(w, "Backlog: %d after-events waiting for delivery.\n", l.Backlog)
	})
}

// oneLine keeps a table cell on one line, with no control characters (a
// receiver's answer quoted in an error must not drive the terminal).
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func printCallback(w io.Writer, cb operator.Callback) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SDKAppID:\t%d\n", cb.SDKAppID)
	if cb.URL == "" {
		fmt.Fprintf(tw, "Callbacks:\toff\n")
	} else {
		fmt.Fprintf(tw, "URL:\t%s\n", cb.URL)
	}
	fmt.Fprintf(tw, "Token:\t%s\n", map[bool]string{true: "set (requests are signed)", false: "not set (requests are unsigned)"}[cb.TokenSet])
	if len(cb.Commands) == 0 {
		fmt.Fprintf(tw, "Events:\tnone (add them with --events)\n")
	} else {
		fmt.Fprintf(tw, "Events:\t%s\n", strings.Join(cb.Commands, ", "))
	}
	if cb.UpdatedAt != "" {
		fmt.Fprintf(tw, "Updated:\t%s\n", cb.UpdatedAt)
	}
	tw.Flush()
}
